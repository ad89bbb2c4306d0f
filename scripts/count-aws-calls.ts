/**
 * `npm run cost`: what the AWS deployment costs per operation, from counted API calls instead of
 * estimates. It starts the emulators (DynamoDB Local, kinesis-mock, s3rver) and the AWS code path in
 * this process the way test/support/aws-path-setup.ts does — the API handler in front of the proxy,
 * a Kinesis poller feeding one datanode per shard (as the event source mapping runs the ingest
 * Lambda), the indexer in process, two querynodes on loopback — with an AwsCallCounter per role
 * attached through the client hook, then runs workloads (single-row and batched 768-d inserts, a
 * flush with its index build, searches, gets, an idle spell) and prints, per workload, the calls per
 * operation per service, the dollars per million operations at us-east-1 list prices, and the
 * Kinesis read amplification (record bytes read by every consumer / record bytes written).
 * docs/cost-model.md explains the figures. Options: --single, --batches, --batch-rows, --searches,
 * --gets, --idle-seconds, --json FILE (the raw counts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AwsCallCounter, countsSince, totalOf, type CallCounts } from '../lib/adapters/aws/call-counter.ts';
import { setAwsClientHook } from '../lib/adapters/aws/client-hook.ts';
import { DynamoDbKvStore } from '../lib/adapters/aws/dynamodb-kv-store.ts';
import { defaultKinesisClient, KinesisWal } from '../lib/adapters/aws/kinesis-wal.ts';
import { ApiProxy } from '../lib/aws/api-proxy.ts';
import { handleApiEvent } from '../lib/aws/api-role.ts';
import type { AwsConfig } from '../lib/aws/aws-config.ts';
import { Datanode } from '../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../lib/aws/indexer-trigger.ts';
import { ingestBatch } from '../lib/aws/ingest-role.ts';
import { startKinesisPoller } from '../lib/aws/kinesis-poller.ts';
import { startQuerynode, type RunningQuerynode } from '../lib/aws/querynode.ts';
import { openSharedStores, type SharedStores } from '../lib/aws/shared-stores.ts';
import type { SegmentMeta } from '../lib/engine/catalog/catalog.ts';
import { freshEmulatorConfig, startEmulators } from '../localstack/emulators.ts';

/** us-east-1 list prices (USD), as of the figures in docs/cost-model.md. */
export const PRICES = {
  apiGatewayRequest: 3.5e-6,
  lambdaRequest: 0.2e-6,
  lambdaGbSecond: 0.0000166667,
  kinesisPutPayloadUnit: 0.014e-6,
  kinesisShardHour: 0.015,
  dynamodbWriteUnit: 1.25e-6,
  dynamodbReadUnit: 0.25e-6,
  s3Put: 0.005e-3,
  s3Get: 0.0004e-3,
} as const;

/** Memory of each Lambda function in lib/infra/migrans-stack.ts (MB). */
export const LAMBDA_MEMORY_MB = { api: 1769, ingest: 2048, indexer: 3008, compactor: 3008 } as const;

/** The roles whose clients are counted apart (each querynode on its own). */
type Role = 'api' | 'ingest' | 'indexer' | 'qn-a' | 'qn-b';
const QUERYNODES = ['qn-a', 'qn-b'] as const;
const ROLES: Role[] = ['api', 'ingest', 'indexer', ...QUERYNODES];

/** S3 operations billed at the PUT/COPY/POST/LIST rate; every other billed one (GET, HEAD) at the GET rate; deletes are free. */
const S3_PUT_RATE = new Set(['PutObject', 'CopyObject', 'ListObjectsV2', 'ListObjects', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);
const S3_FREE = new Set(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload']);

const DIM = 768;
const TOKEN = 'cost-token';
const COLLECTION = 'cost';

/** What one workload did and cost. */
interface WorkloadResult {
  name: string;
  /** Operations the workload counts its cost per (API requests, or rows for batched inserts). */
  ops: number;
  unit: string;
  /** API requests it made (each one API Gateway request and one API Lambda invocation). */
  apiRequests: number;
  counts: Record<Role, CallCounts>;
  /** Lambda invocations and their measured in-process durations (ms). */
  lambda: Record<'api' | 'ingest' | 'indexer', { invocations: number; ms: number }>;
  /** Wall time of the workload, settling included (ms). */
  ms: number;
}

const { values: args } = parseArgs({
  options: {
    single: { type: 'string', default: '1000' },
    batches: { type: 'string', default: '10' },
    'batch-rows': { type: 'string', default: '1000' },
    searches: { type: 'string', default: '1000' },
    gets: { type: 'string', default: '1000' },
    'idle-seconds': { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});

/** A non-negative integer option, or a clear refusal naming the value. */
function intOption(name: keyof typeof args): number {
  const v = Number(args[name]);
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${JSON.stringify(args[name])}\n`);
    process.exit(2);
  }
  return v;
}

const SINGLE = intOption('single');
const BATCHES = intOption('batches');
const BATCH_ROWS = intOption('batch-rows');
const SEARCHES = intOption('searches');
const GETS = intOption('gets');
const IDLE_SECONDS = intOption('idle-seconds');

/** A deterministic 768-d float32-like vector (8 decimals, as clients serialise embeddings). */
function vector(i: number): number[] {
  return Array.from({ length: DIM }, (_, d) => Number((Math.sin(i * 7.31 + d * 0.13) * 0.5).toFixed(8)));
}

/** Every store set opened, closed at the end. */
const openedStores: SharedStores[] = [];
const counters = Object.fromEntries(ROLES.map((r) => [r, new AwsCallCounter()])) as Record<Role, AwsCallCounter>;
const lambda = { api: { invocations: 0, ms: 0 }, ingest: { invocations: 0, ms: 0 }, indexer: { invocations: 0, ms: 0 } };

/** Opens shared stores whose clients count into `role`'s counter. */
function storesFor(role: Role, config: AwsConfig): SharedStores {
  const restore = setAwsClientHook(counters[role].hook());
  try {
    const stores = openSharedStores(config);
    openedStores.push(stores);
    return stores;
  } finally {
    restore();
  }
}

/** A Milvus error reply to one of the script's calls. */
class ApiCallError extends Error {
  constructor(
    readonly route: string,
    readonly code: number,
    message: string,
  ) {
    super(`${route} failed with code ${code}: ${message}`);
  }
}

/** Calls the API handler as API Gateway does (gzip bodies base64-encoded, as the stack's binaryMediaTypes deliver them). */
async function call(proxy: ApiProxy, route: string, body: unknown, gzip = false): Promise<unknown> {
  const json = JSON.stringify(body);
  const event = {
    httpMethod: 'POST',
    path: `/v2/vectordb/${route}`,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) },
    body: gzip ? zlib.gzipSync(json).toString('base64') : json,
    isBase64Encoded: gzip,
  } as unknown as APIGatewayProxyEvent;
  const started = performance.now();
  const reply = JSON.parse((await handleApiEvent(proxy, event)).body);
  lambda.api.invocations++;
  lambda.api.ms += performance.now() - started;
  if (reply.code !== 0) throw new ApiCallError(route, reply.code, String(reply.message));
  return reply.data;
}

/** Retries made after an append of unknown fate (each retry is one more API request, counted in the costs). */
let unknownFateRetries = 0;

/**
 * Calls the API; a write whose fate is unknown (the owner querynode's append timed out: every role
 * shares this one process, so a datanode or querynode applying a large batch can hold up the owner's
 * event loop) is retried, up to twice, as a client would: it may land more than once, which leaves
 * the same rows (inserts overwrite) but pays again — the report says how often. Returns the requests made.
 */
async function callRetryingUnknownFate(proxy: ApiProxy, route: string, body: unknown, gzip = false): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call(proxy, route, body, gzip);
      return attempt;
    } catch (err) {
      if (!(err instanceof ApiCallError) || err.code !== 65535 || attempt === 3) throw err;
      unknownFateRetries++;
      process.stdout.write(`  (retrying ${route} after: ${err.message.slice(0, 200)})\n`);
      await settled();
    }
  }
}

const snapshotAll = () => ({ counts: Object.fromEntries(ROLES.map((r) => [r, counters[r].snapshot()])) as Record<Role, CallCounts>, lambda: structuredClone(lambda) });

/** Runs `body`, then waits until no role makes Kinesis reads of new records (the consumers caught up), and returns what it cost. */
async function workload(name: string, ops: number, unit: string, body: () => Promise<number>, settle = true): Promise<WorkloadResult | undefined> {
  if (ops === 0) return undefined;
  const before = snapshotAll();
  const started = performance.now();
  const apiRequests = await body();
  if (settle) await settled();
  const after = snapshotAll();
  const result: WorkloadResult = {
    name,
    ops,
    unit,
    apiRequests,
    ms: performance.now() - started,
    counts: Object.fromEntries(ROLES.map((r) => [r, countsSince(after.counts[r], before.counts[r])])) as Record<Role, CallCounts>,
    lambda: {
      api: { invocations: after.lambda.api.invocations - before.lambda.api.invocations, ms: after.lambda.api.ms - before.lambda.api.ms },
      ingest: { invocations: after.lambda.ingest.invocations - before.lambda.ingest.invocations, ms: after.lambda.ingest.ms - before.lambda.ingest.ms },
      indexer: { invocations: after.lambda.indexer.invocations - before.lambda.indexer.invocations, ms: after.lambda.indexer.ms - before.lambda.indexer.ms },
    },
  };
  report(result);
  return result;
}

/** Resolves once the record bytes read by all roles and the datanodes' DynamoDB writes stayed unchanged for a second (at most 30 s). */
async function settled(): Promise<void> {
  const readBytes = () =>
    ROLES.reduce((sum, r) => sum + totalOf(counters[r].snapshot(), 'Kinesis.GetRecords', 'recordBytesRead'), 0) + totalOf(counters.ingest.snapshot(), 'DynamoDB', 'writeUnits');
  let last = -1;
  let stable = 0;
  for (let i = 0; i < 60 && stable < 2; i++) {
    const now = readBytes();
    stable = now === last ? stable + 1 : 0;
    last = now;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Dollar cost of one workload, by line item. */
function dollars(w: WorkloadResult): Record<string, number> {
  const all = (prefix: string, field: Parameters<typeof totalOf>[2]) => ROLES.reduce((sum, r) => sum + totalOf(w.counts[r], prefix, field), 0);
  const gbs = (role: keyof typeof lambda) => (w.lambda[role].ms / 1000) * (LAMBDA_MEMORY_MB[role] / 1024);
  let s3 = 0;
  for (const r of ROLES) {
    for (const [key, st] of Object.entries(w.counts[r])) {
      if (!key.startsWith('S3.')) continue;
      const op = key.slice(3);
      if (S3_FREE.has(op)) continue;
      s3 += st.attempts * (S3_PUT_RATE.has(op) ? PRICES.s3Put : PRICES.s3Get);
    }
  }
  const invocations = w.lambda.api.invocations + w.lambda.ingest.invocations + w.lambda.indexer.invocations;
  return {
    'API Gateway': w.apiRequests * PRICES.apiGatewayRequest,
    'Lambda requests': invocations * PRICES.lambdaRequest,
    'Lambda GB-s': (gbs('api') + gbs('ingest') + gbs('indexer')) * PRICES.lambdaGbSecond,
    'Kinesis PUT units': all('Kinesis', 'putPayloadUnits') * PRICES.kinesisPutPayloadUnit,
    'DynamoDB writes': all('DynamoDB', 'writeUnits') * PRICES.dynamodbWriteUnit,
    'DynamoDB reads': all('DynamoDB', 'readUnits') * PRICES.dynamodbReadUnit,
    S3: s3,
  };
}

const fmt = (n: number, digits = 2) => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

/** Prints one workload: calls per operation per role and service, cost per million operations, read amplification. */
function report(w: WorkloadResult): void {
  const out: string[] = [`\n## ${w.name}: ${w.ops} ${w.unit} (${w.apiRequests} API requests)`];
  out.push(`  role       call                                calls/op   attempts/op  req KB/op  resp KB/op  units/op`);
  for (const r of ROLES) {
    for (const [key, s] of Object.entries(w.counts[r])) {
      const units = key.startsWith('DynamoDB.') ? s.readUnits + s.writeUnits : key.startsWith('Kinesis.Put') ? s.putPayloadUnits : 0;
      out.push(
        `  ${r.padEnd(10)} ${key.padEnd(35)} ${fmt(s.calls / w.ops, 3).padStart(9)} ${fmt(s.attempts / w.ops, 3).padStart(12)} ${fmt(s.requestBytes / 1024 / w.ops).padStart(10)} ${fmt(s.responseBytes / 1024 / w.ops).padStart(11)} ${units ? fmt(units / w.ops, 3).padStart(9) : ''}`,
      );
    }
  }
  const l = w.lambda;
  out.push(
    `  Lambda: api ${l.api.invocations} invocations, ${fmt(l.api.ms / Math.max(1, l.api.invocations), 1)} ms each; ingest ${l.ingest.invocations}, ${fmt(l.ingest.ms / Math.max(1, l.ingest.invocations), 1)} ms each; indexer ${l.indexer.invocations}, ${fmt(l.indexer.ms / Math.max(1, l.indexer.invocations), 1)} ms each (in-process on the emulators)`,
  );
  const d = dollars(w);
  const counted = Object.entries(d).filter(([k]) => k !== 'Lambda GB-s');
  const countedTotal = counted.reduce((a, [, v]) => a + v, 0);
  const perM = (v: number) => fmt((v / w.ops) * 1e6, 3);
  out.push(
    `  $ per million ${w.unit}: ${perM(countedTotal)} counted (${counted.map(([k, v]) => `${k} ${perM(v)}`).join(', ')}) + ${perM(d['Lambda GB-s'])} Lambda GB-s at the emulator durations`,
  );
  const written = ROLES.reduce((sum, r) => sum + totalOf(w.counts[r], 'Kinesis', 'recordBytesPut'), 0);
  if (written > 0) {
    const read = Object.fromEntries(ROLES.map((r) => [r, totalOf(w.counts[r], 'Kinesis.GetRecords', 'recordBytesRead')]));
    const sum = Object.values(read).reduce((a, b) => a + b, 0);
    out.push(`  Kinesis: ${fmt(written / 1024)} KB written; read amplification ${fmt(sum / written)} (${ROLES.map((r) => `${r} ${fmt(read[r] / written)}`).join(', ')})`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/**
 * The closing table: per workload, the counted dollars per million operations, the same net of the
 * idle background (querynode heartbeats, lease renewals and tail polls run whatever the traffic; the
 * idle workload measures their rate, charged here for the workload's wall time), and the read amplification.
 */
function summary(results: WorkloadResult[]): void {
  const idle = results.find((r) => r.unit === 'seconds');
  const counted = (w: WorkloadResult) => Object.entries(dollars(w)).reduce((a, [k, v]) => (k === 'Lambda GB-s' ? a : a + v), 0);
  const idlePerMs = idle ? counted(idle) / idle.ms : 0;
  const lines = [
    '\n## summary (us-east-1 list prices; Lambda GB-s left out: see each workload)',
    '  workload                                   $/M counted   $/M net of idle   Kinesis read amplification',
  ];
  for (const w of results) {
    if (w === idle) continue;
    const total = (counted(w) / w.ops) * 1e6;
    const net = ((counted(w) - idlePerMs * w.ms) / w.ops) * 1e6;
    const written = ROLES.reduce((sum, r) => sum + totalOf(w.counts[r], 'Kinesis', 'recordBytesPut'), 0);
    const read = ROLES.reduce((sum, r) => sum + totalOf(w.counts[r], 'Kinesis.GetRecords', 'recordBytesRead'), 0);
    lines.push(`  ${`${w.name} (per M ${w.unit})`.padEnd(42)} ${fmt(total, 3).padStart(11)} ${fmt(net, 3).padStart(17)}   ${written > 1024 * 100 ? fmt(read / written) : '-'}`);
  }
  if (idle) lines.push(`  idle fleet: $${fmt(counted(idle) / (idle.ms / 1000), 6)}/s = $${fmt((counted(idle) / (idle.ms / 1000)) * 3600 * 730)}/month in DynamoDB requests`);
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const emulators = await startEmulators();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-cost-'));
  const config = freshEmulatorConfig({});
  const engine = { compactionIntervalMs: 0 };
  const closers: (() => Promise<unknown>)[] = [];
  const results: (WorkloadResult | undefined)[] = [];
  try {
    await DynamoDbKvStore.createTable(config.table);
    await KinesisWal.createResources({ streamName: config.stream, shardCount: 2, indexTableName: config.walIndexTable });
    const indexerStores = storesFor('indexer', config);
    const indexer = inProcessIndexerTrigger(indexerStores);
    // Each trigger is one asynchronous indexer Lambda invocation; its duration is measured around the build.
    const indexSegment = (meta: SegmentMeta) => {
      lambda.indexer.invocations++;
      const started = performance.now();
      indexer.trigger(meta);
      void indexer.idle().then(() => (lambda.indexer.ms += performance.now() - started));
    };
    const proxy = await ApiProxy.open(storesFor('api', config), { token: TOKEN, config: engine, replicas: 1, indexSegment });
    closers.push(() => proxy.close());
    // The datanode's WAL takes each batch's records from the batch, as the ingest Lambda's does.
    const datanodes = new Map<string, Promise<{ node: Datanode; wal: SharedStores['wal'] }>>();
    const datanodeOf = (shard: string) => {
      if (!datanodes.has(shard)) {
        const stores = storesFor('ingest', config);
        datanodes.set(
          shard,
          Datanode.open(stores, engine, indexSegment).then((node) => ({ node, wal: stores.wal })),
        );
      }
      return datanodes.get(shard)!;
    };
    const pollerClient = defaultKinesisClient();
    counters.ingest.attach(pollerClient);
    const poller = await startKinesisPoller({
      streamName: config.stream,
      client: pollerClient,
      handle: async (batch, shard) => {
        const started = performance.now();
        try {
          const { node, wal } = await datanodeOf(shard);
          return await ingestBatch(node, batch, Date.now() + 60_000, undefined, { shard, wal });
        } finally {
          lambda.ingest.invocations++;
          lambda.ingest.ms += performance.now() - started;
        }
      },
    });
    closers.push(async () => {
      await poller.stop();
      pollerClient.destroy();
      for (const d of datanodes.values()) await (await d).node.close();
    });
    const nodes: RunningQuerynode[] = [];
    for (const id of QUERYNODES) {
      nodes.push(await startQuerynode({ stores: storesFor(id, config), dataDir: path.join(tmp, id), host: '127.0.0.1', port: 0, token: TOKEN, config: engine, id, replicas: 1 }));
    }
    closers.push(async () => Promise.all(nodes.map((n) => n.close())));

    await call(proxy, 'collections/create', { collectionName: COLLECTION, dimension: DIM, metricType: 'COSINE', params: { shardsNum: 2 } });
    await settled();

    let next = 0;
    // Batches first: on the emulators a 1,000-row batch takes seconds to put through kinesis-mock, and
    // the owner's 10 s append timeout (lib/aws/owner-routed-wal.ts) is less likely to trip on a fresh stream.
    results.push(
      await workload(`batched inserts (${BATCH_ROWS} rows, gzip)`, BATCHES * BATCH_ROWS, 'rows', async () => {
        let requests = 0;
        for (let b = 0; b < BATCHES; b++) {
          const data = Array.from({ length: BATCH_ROWS }, () => ({ id: next, vector: vector(next++) }));
          requests += await callRetryingUnknownFate(proxy, 'entities/insert', { collectionName: COLLECTION, data }, true);
          await settled(); // let the consumers catch up, as they would in their own processes
        }
        return requests;
      }),
    );
    results.push(
      await workload('single-row inserts', SINGLE, 'rows', async () => {
        let requests = 0;
        for (let i = 0; i < SINGLE; i++, next++)
          requests += await callRetryingUnknownFate(proxy, 'entities/insert', { collectionName: COLLECTION, data: [{ id: next, vector: vector(next) }] });
        return requests;
      }),
    );
    results.push(
      await workload('flush + index build', 1, 'flushes', async () => {
        await call(proxy, 'collections/flush', { collectionName: COLLECTION });
        await settled();
        await indexer.idle();
        return 1;
      }),
    );
    results.push(
      await workload(
        'searches (limit 10, default consistency)',
        SEARCHES,
        'searches',
        async () => {
          for (let i = 0; i < SEARCHES; i++) await call(proxy, 'entities/search', { collectionName: COLLECTION, data: [vector((i * 37) % Math.max(1, next))], limit: 10 });
          return SEARCHES;
        },
        false,
      ),
    );
    results.push(
      await workload(
        'gets (one id)',
        GETS,
        'gets',
        async () => {
          for (let i = 0; i < GETS; i++) await call(proxy, 'entities/get', { collectionName: COLLECTION, id: [(i * 53) % Math.max(1, next)] });
          return GETS;
        },
        false,
      ),
    );
    if (IDLE_SECONDS > 0) {
      results.push(
        await workload(
          `idle (${IDLE_SECONDS} s, 2 querynodes, 2 channels)`,
          IDLE_SECONDS,
          'seconds',
          async () => {
            await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
            return 0;
          },
          false,
        ),
      );
    }
    process.stdout.write(
      `\nPrices (us-east-1 list): ${JSON.stringify(PRICES)}\nLambda memory (MB, lib/infra/migrans-stack.ts): ${JSON.stringify(LAMBDA_MEMORY_MB)}\n` +
        `Fixed, not per operation: Kinesis 2 shards × $${PRICES.kinesisShardHour}/shard-hour = $${fmt(2 * PRICES.kinesisShardHour * 730)}/month; Fargate querynodes; NAT gateways.\n`,
    );
    summary(results.filter((r): r is WorkloadResult => r !== undefined));
    if (unknownFateRetries > 0) process.stdout.write(`Writes retried after an unknown fate: ${unknownFateRetries} (their cost is in the figures above).\n`);
    if (args.json)
      fs.writeFileSync(args.json, JSON.stringify({ prices: PRICES, lambdaMemoryMb: LAMBDA_MEMORY_MB, unknownFateRetries, workloads: results.filter(Boolean) }, null, 2));
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    for (const s of openedStores) await Promise.allSettled([s.kv.close(), s.wal.close()]);
    await emulators.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
