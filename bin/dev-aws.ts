/**
 * `npm run dev:aws`: the whole AWS code path on this machine, against the npm-installed emulators
 * (DynamoDB Local, kinesis-mock, s3rver; no Docker, no account). The API role behind a local HTTP
 * server on 127.0.0.1:19530 (MIGRANS_PORT; 0 picks a free port and the real URL is printed), a
 * poller feeding Kinesis batches to the ingest role as the event source mapping does (one datanode
 * per shard), the indexer in-process, the compactor every minute (MIGRANS_COMPACTION_INTERVAL_MS;
 * 0 turns it off), and two querynode processes. State lives in the emulators and is gone when it
 * stops. Once the querynodes serve it prints `migrans dev:aws: ready` (the bench waits for that line).
 * SIGTERM / SIGINT stop everything; if this process dies in any other way (even SIGKILL), the
 * emulators and the querynodes go with it, because each runs under localstack/emulator-guard.mjs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDbKvStore } from '../lib/adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../lib/adapters/aws/kinesis-wal.ts';
import { startServer, type RunningServer } from '../lib/api/node-server.ts';
import { ApiProxy } from '../lib/aws/api-proxy.ts';
import { resolveAwsConfig } from '../lib/aws/aws-config.ts';
import { AWS_ENV } from '../lib/aws/aws-env.ts';
import { Compactor } from '../lib/aws/compactor.ts';
import { Datanode } from '../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../lib/aws/indexer-trigger.ts';
import { ingestBatch } from '../lib/aws/ingest-role.ts';
import { startKinesisPoller, type RunningPoller } from '../lib/aws/kinesis-poller.ts';
import { openSharedStores } from '../lib/aws/shared-stores.ts';
import { EMULATOR_BUCKET, startEmulators, type Emulators } from '../localstack/emulators.ts';

const QUERYNODES = 2;
const GUARD = path.join(import.meta.dirname, '..', 'localstack', 'emulator-guard.mjs');

const port = parsePort(process.env.MIGRANS_PORT);
const token = process.env.MIGRANS_TOKEN || undefined;
const querynodeToken = token ?? crypto.randomBytes(16).toString('hex');

let emulators: Emulators | undefined;
let poller: RunningPoller | undefined;
let server: RunningServer | undefined;
let compactions: NodeJS.Timeout | undefined;
const querynodes: { child: ChildProcess; dataDir: string; exited: Promise<void> }[] = [];
let stopping = false;

// Registered before the emulators install their own handlers, so this runs first on a signal and
// takes the querynodes down before the emulators vanish under them (which would only make them log
// connection errors while they stop).
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('exit', () => {
  for (const q of querynodes) killGroup(q.child);
});

try {
  console.log('migrans dev:aws: starting DynamoDB Local, kinesis-mock and s3rver…');
  emulators = await startEmulators();
  Object.assign(process.env, {
    [AWS_ENV.bucket]: EMULATOR_BUCKET,
    [AWS_ENV.table]: 'migrans-kv',
    [AWS_ENV.walIndexTable]: 'migrans-wal-index',
    [AWS_ENV.stream]: 'migrans-wal',
    [AWS_ENV.token]: querynodeToken,
  });
  const config = resolveAwsConfig();
  await DynamoDbKvStore.createTable(config.table);
  await KinesisWal.createResources({ streamName: config.stream, shardCount: 2, indexTableName: config.walIndexTable });

  const indexer = inProcessIndexerTrigger(openSharedStores(config));
  const datanodes = new Map<string, Promise<Datanode>>();
  poller = await startKinesisPoller({
    streamName: config.stream,
    handle: async (batch, shard) => {
      if (!datanodes.has(shard)) datanodes.set(shard, Datanode.open(openSharedStores(config), config.engine, indexer.trigger));
      return ingestBatch(await datanodes.get(shard)!, batch, Date.now() + 60_000);
    },
  });
  const compactor = await Compactor.open(openSharedStores(config), config.engine, indexer.trigger);
  const compactionMs = config.engine.compactionIntervalMs ?? 60_000;
  if (compactionMs > 0) compactions = setInterval(() => compactor.run().catch((err) => console.error('migrans dev:aws: compactor run failed:', err)), compactionMs);

  const serving: Promise<void>[] = [];
  for (let i = 0; i < QUERYNODES; i++) {
    const started = startQuerynode(i);
    started.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    serving.push(started);
  }

  const proxy = await ApiProxy.open(openSharedStores(config), { token, querynodeToken, config: config.engine, indexSegment: indexer.trigger });
  server = await startServer({ db: proxy.db, handle: (req) => proxy.handle(req), host: '127.0.0.1', port });
  console.log(`migrans dev:aws: the AWS code path listens on ${server.url} (Milvus REST v2${token ? ', token required' : ''})`);
  const auth = token ? ` -H "Authorization: Bearer $MIGRANS_TOKEN"` : '';
  console.log(`  try: curl -s -X POST ${server.url}/v2/vectordb/collections/list -H 'Content-Type: application/json'${auth} -d '{}'`);
  await Promise.all(serving);
  console.log(`migrans dev:aws: ready (${QUERYNODES} querynodes serving, pid ${process.pid})`);
} catch (err) {
  console.error('migrans dev:aws: start failed:', err);
  await stop(1);
}

/** MIGRANS_PORT: unset means 19530 (Milvus's port); 0 picks a free one. */
function parsePort(v: string | undefined): number {
  if (v === undefined || v === '') return 19530;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`migrans dev:aws: MIGRANS_PORT must be an integer in 0…65535 (0 = any free port), got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

/**
 * Spawns querynode `i` under the emulator guard (its own process group, which dies with this
 * process) and resolves once it serves; its output is passed through.
 */
function startQuerynode(i: number): Promise<void> {
  const dataDir = path.join(os.tmpdir(), `migrans-dev-querynode-${process.pid}-${i}`);
  const child = spawn(process.execPath, [GUARD, process.execPath, '--import', 'tsx', path.join(import.meta.dirname, 'querynode.ts')], {
    env: { ...process.env, MIGRANS_HOST: '127.0.0.1', [AWS_ENV.querynodePort]: '0', MIGRANS_DATA_DIR: dataDir },
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'], // the guard takes the group down when our end of stdin closes
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  querynodes.push({ child, dataDir, exited });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      process.stdout.write(d);
      if (seen !== 'done' && /serving at/.test((seen += d.toString()))) {
        seen = 'done';
        resolve();
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`querynode ${i} exited (${signal ?? code}) before serving`)));
  });
}

/** Kills a guarded child's whole process group; one that is gone already is fine. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Stops everything and exits with `code`. The querynodes hold nothing worth a graceful close (their
 * state is a cache of the emulators', which go too), so they are killed outright; a watchdog exits
 * anyway after 15 s if some close hangs.
 */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    console.error('migrans dev:aws: stop took over 15 s; exiting anyway');
    process.exit(code || 1);
  }, 15_000).unref();
  clearInterval(compactions);
  for (const q of querynodes) killGroup(q.child);
  await Promise.all(querynodes.map((q) => q.exited));
  await Promise.allSettled([server?.close(), poller?.stop()]);
  await emulators?.stop();
  for (const q of querynodes) fs.rmSync(q.dataDir, { recursive: true, force: true });
  process.exit(code);
}
