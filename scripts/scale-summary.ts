/**
 * `npm run scale`: a scale check a user can run on one machine. It starts `npm run dev:aws` (the AWS
 * code path on local emulators, not AWS) with `--querynodes N`, loads a clustered data set of
 * `--rows` × `--dim` vectors through the REST v2 API in 1,000-row batches, flushes, builds the HNSW
 * index, and then checks the claim "a querynode downloads and loads only its own segments": it reads
 * each querynode's /metrics and compares the segments it holds locally, its resident sealed bytes
 * and its local disk bytes with the ideal share (total × replicas / N), PASS within 1.3 × the ideal,
 * and checks that every segment is held by exactly `--replicas` querynodes.
 * It then runs Strong-consistency searches from a few concurrent clients and prints QPS, p50, p99
 * and recall@10 against exact results computed here by brute force. The exit code is 1 when a check
 * fails, 2 on bad options. dev:aws runs under localstack/emulator-guard.mjs, so it (and through it
 * the emulators, proxies and querynodes) goes with this process however it ends; Ctrl-C and SIGTERM
 * stop it in order first.
 *
 * The collection has `--shards` channels (default 2) and segments seal at `--seal-rows` rows
 * (default 400): a channel seals only between WAL records, and a 1,000-row batch is one record of
 * about 500 rows per channel, so every batch becomes a segment per channel (100k rows: 200
 * segments). With Milvus's 128 MB seal a 100k × 128 set would be one segment per channel, and two
 * segments over three nodes say nothing about placement. Rendezvous placement spreads segments
 * like independent draws, so the 1.3 × check needs dozens of segments per node to pass by more
 * than luck: with 100 segments over 3 nodes about 1 run in 20 has a node over 1.3 ×, with 200
 * about 1 in 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError } from 'commander';
import usearch, { type BatchMatches } from 'usearch';
import { defaultGeneratorParams, loadDataset, row } from '../bench/data.ts';
import { consoleLogger } from '../lib/adapters/local/console-logger.ts';
import { ErrorCode } from '../lib/api/error-codes.ts';
import { MAX_REPLICAS } from '../lib/aws/aws-env.ts';
import { EMULATOR_BUCKET } from '../localstack/emulators.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const GUARD = path.join(ROOT, 'localstack', 'emulator-guard.mjs');
const COLLECTION = 'scale';
const BATCH_ROWS = 1000;
const K = 10;
/** A querynode passes when it holds at most this multiple of its ideal share. */
const SHARE_TOLERANCE = 1.3;
/**
 * How long the querynodes get to settle after the index is built: each first seals every segment
 * itself and keeps a segment outside its share for 30 s after a read last needed it
 * (RELEASE_IDLE_MS in lib/aws/querynode.ts), then checks residency every 2 s.
 */
const SETTLE_TIMEOUT_MS = 120_000;
/** Attempts per insert batch before the check gives up (see insertWithRetries). */
const INSERT_ATTEMPTS = 6;

/** Faults and failures; the report itself is plain stdout. */
const logger = consoleLogger();

/** The command line. */
interface Options {
  rows: number;
  dim: number;
  querynodes: number;
  replicas: number;
  sealRows: number;
  shards: number;
  clients: number;
  seconds: number;
  queries: number;
  ef?: number;
  minRecall: number;
  verbose: boolean;
}

const opts = new Command()
  .name('scale')
  .description('Scale check of the AWS code path on local emulators (not AWS): per-querynode share of segments, memory and disk; Strong search QPS, latency and recall.')
  .option('--rows <n>', 'rows to insert', intIn('--rows', 1000, 10_000_000), 100_000)
  .option('--dim <n>', 'vector dimension', intIn('--dim', 2, 4096), 128)
  .option('--querynodes <n>', 'querynode processes', intIn('--querynodes', 1, 16), 3)
  .option('--replicas <n>', 'querynodes holding each sealed segment', intIn('--replicas', 1, MAX_REPLICAS), 1)
  .option('--seal-rows <n>', "rows at which a growing segment seals (it holds whole WAL records: a batch's rows of its channel)", intIn('--seal-rows', 1, 100_000_000), 400)
  .option('--shards <n>', 'channels (shards) of the collection', intIn('--shards', 1, 16), 2)
  .option('--clients <n>', 'concurrent search clients', intIn('--clients', 1, 64), 4)
  .option('--seconds <n>', 'how long the searches run', intIn('--seconds', 1, 3600), 20)
  .option('--queries <n>', 'distinct query vectors (cycled)', intIn('--queries', 1, 100_000), 500)
  .option('--ef <n>', 'HNSW ef of each search (default: the server default)', intIn('--ef', 1, 32_768))
  .option('--min-recall <x>', 'recall@10 below this fails the check', floatIn('--min-recall', 0, 1), 0.9)
  .option('--verbose', "pass dev:aws's own output through", false)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)) // bad options exit 2 (commander's message is printed already), as the header says
  .parse(process.argv)
  .opts<Options>();

if (opts.replicas > opts.querynodes) {
  console.error(`scale: --replicas ${opts.replicas} is more than --querynodes ${opts.querynodes}; a segment cannot have more holders than there are querynodes`);
  process.exit(2);
}
const sealRows = opts.sealRows;
// The S3 listing below uses the SDK in this process; the emulators' clients set the same.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const token = crypto.randomBytes(16).toString('hex');

/** A started dev:aws and what it printed about itself. */
interface DevAws {
  guard: ChildProcess;
  url: string;
  s3: string;
  pid: number;
  querynodes: { id: string; url: string }[];
}

let devAws: DevAws | undefined;
let guard: ChildProcess | undefined;
let output = '';
let stopping: Promise<void> | undefined;

process.on('SIGINT', () => void interrupted(130));
process.on('SIGTERM', () => void interrupted(143));
// Last resort (an uncaught throw, process.exit): the guard's group goes synchronously.
process.on('exit', () => killGroup());

/** The whole check; resolves with whether any check failed. */
async function run(): Promise<boolean> {
  const t0 = performance.now();
  console.log(
    `scale: ${opts.rows.toLocaleString('en-US')} rows × ${opts.dim}-d, ${opts.querynodes} querynodes, ${opts.replicas} replica(s), ${opts.shards} shards, segments sealed at ${sealRows} rows (AWS code path on local emulators, not AWS)`,
  );
  const ds = loadDataset(defaultGeneratorParams(opts.rows, opts.dim, opts.queries), path.join(ROOT, '.bench-cache'));
  const truth = exactTopK(ds.base, ds.queries, opts.dim, opts.queries);
  console.log(
    `scale: data ready (${ds.fromCache ? 'from .bench-cache' : `generated in ${ds.generateSeconds.toFixed(1)} s`}); exact top-${K} of ${opts.queries} queries by brute force`,
  );

  devAws = await startDevAws();
  console.log(`scale: dev:aws listens on ${devAws.url}; querynodes: ${devAws.querynodes.map((q) => q.url).join(', ')}`);
  const api = new Rest(devAws.url, token, opts.clients + 2);

  await api.post('collections/create', {
    collectionName: COLLECTION,
    schema: {
      autoId: false,
      enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: opts.dim } },
      ],
    },
    params: { shardsNum: opts.shards },
  });
  const tInsert = performance.now();
  const progress = progressLine(opts.rows);
  let next = 0;
  let retries = 0;
  const insertWorker = async () => {
    for (let from = next; from < opts.rows; from = next) {
      next += BATCH_ROWS;
      const count = Math.min(BATCH_ROWS, opts.rows - from);
      const data = new Array(count);
      for (let j = 0; j < count; j++) data[j] = { id: from + j, vector: Array.from(row(ds.base, opts.dim, from + j)) };
      retries += await insertWithRetries(api, JSON.stringify({ collectionName: COLLECTION, data }));
      progress.tick(count, performance.now() - tInsert);
    }
  };
  await Promise.all([insertWorker(), insertWorker()]); // two in flight, as a client that keeps the pipe full
  const insertSeconds = (performance.now() - tInsert) / 1000;
  progress.done(
    `inserted ${opts.rows.toLocaleString('en-US')} rows in ${insertSeconds.toFixed(1)} s (${Math.round(opts.rows / insertSeconds)} rows/s acknowledged, ${retries} batch retries)`,
  );

  await api.post('collections/flush', { collectionName: COLLECTION });
  await api.post('indexes/create', {
    collectionName: COLLECTION,
    indexParams: [{ fieldName: 'vector', indexName: 'vector', metricType: 'COSINE', params: { index_type: 'HNSW', M: 16, efConstruction: 128 } }],
  });
  await api.post('collections/load', { collectionName: COLLECTION });
  const tIndex = performance.now();
  for (;;) {
    const d = await describeIndex(api, tIndex);
    progress.status(`index: ${d.indexState}, ${d.indexedRows} of ${d.totalRows} rows indexed, ${d.pendingRows} pending`);
    if (d.indexState === 'Finished' && d.pendingRows === 0 && d.indexedRows >= opts.rows) break;
    if (d.indexState === 'Failed') throw new Error(`the index build failed: ${d.failReason || JSON.stringify(d)}`);
    await sleep(1000);
  }
  progress.done(`flushed and indexed in ${((performance.now() - tIndex) / 1000).toFixed(1)} s`);

  const shares = await settledShares(progress);
  const shareFailed = printShares(shares);

  const searches = await searchLoad(api, ds.queries, truth);
  const searchFailed = printSearches(searches);
  api.close();
  console.log(`scale: ${shareFailed || searchFailed ? 'FAIL' : 'PASS'} (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`);
  return shareFailed || searchFailed;
}

/**
 * Inserts one batch, retrying (with backoff) what the API says may not have landed: an internal
 * error (code 65535, e.g. an owner querynode's append timing out on a loaded machine) or a lost
 * connection. Every row has an explicit primary key, so a batch that did land and is sent again
 * only overwrites its own rows. Resolves with the number of retries.
 */
async function insertWithRetries(api: Rest, body: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await api.post('entities/insert', body);
      return attempt - 1;
    } catch (err) {
      const retryable = !(err instanceof RestError) || err.code === ErrorCode.Unexpected;
      if (!retryable || attempt >= INSERT_ATTEMPTS || stopping) throw err;
      logger.warn('scale: an insert batch may not have landed; sending it again', { attempt, error: err });
      await sleep(500 * 2 ** attempt);
    }
  }
}

/**
 * The index's describe; an "index not found" in the first 30 s after `since` is a querynode whose
 * catalog poll has not seen the new index yet, and is asked again.
 */
async function describeIndex(api: Rest, since: number) {
  for (;;) {
    try {
      return (await api.post('indexes/describe', { collectionName: COLLECTION, indexName: 'vector' })).data[0];
    } catch (err) {
      if (!(err instanceof RestError && err.code === ErrorCode.IndexNotFound) || performance.now() - since > 30_000) throw err;
      await sleep(500);
    }
  }
}

/** One querynode's holdings, from its /metrics. */
interface Holdings {
  id: string;
  url: string;
  localSegments: number;
  residentSegments: number;
  flushedSegments: number;
  sealedBytes: number;
  diskBytes: number;
  rssBytes: number;
}

/** The holdings of every querynode and the totals they are compared with. */
interface Shares {
  nodes: Holdings[];
  totalSegments: number;
  /** rows × estimated row bytes: the sealed bytes of a node that held every segment. */
  totalSealedBytes: number;
  /** Bytes of the collection's segment files in S3: what a node holding every segment would keep. */
  totalObjectBytes: number;
  settledSeconds: number;
}

/**
 * Polls the querynodes until the fleet holds every segment exactly `replicas` times, locally and
 * in memory (each node has dropped what it sealed itself outside its share), or the settle
 * timeout passes; the holdings of the last poll are what the check judges.
 */
async function settledShares(progress: ProgressLine): Promise<Shares> {
  const t0 = performance.now();
  for (;;) {
    const nodes = await Promise.all(devAws!.querynodes.map(holdings));
    const totalSegments = Math.max(...nodes.map((n) => n.flushedSegments));
    const held = totalSegments * opts.replicas;
    const elapsed = performance.now() - t0;
    progress.status(`settling: local segments per querynode ${nodes.map((n) => n.localSegments).join(' / ')} of ${totalSegments} (${(elapsed / 1000).toFixed(0)} s)`);
    if ((sumOf(nodes, 'localSegments') === held && sumOf(nodes, 'residentSegments') === held) || elapsed > SETTLE_TIMEOUT_MS) {
      progress.done(`querynodes settled after ${(elapsed / 1000).toFixed(0)} s`);
      // One bytes estimate per row: 16 (key, timestamp) + 4 × dim + 16 per scalar field (lib/engine/segment/segment.ts estimatedRowBytes).
      const rowBytes = 16 + 4 * opts.dim + 16;
      return { nodes, totalSegments, totalSealedBytes: opts.rows * rowBytes, totalObjectBytes: await segmentObjectBytes(devAws!.s3), settledSeconds: elapsed / 1000 };
    }
    await sleep(2000);
  }
}

/** The sum of one gauge over the fleet. */
function sumOf(nodes: Holdings[], key: 'localSegments' | 'residentSegments'): number {
  return nodes.reduce((a, n) => a + n[key], 0);
}

/** Reads one querynode's gauges (summed over collections: this run has one). */
async function holdings(q: { id: string; url: string }): Promise<Holdings> {
  const res = await fetch(`${q.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`querynode ${q.id} at ${q.url} answered /metrics with HTTP ${res.status}`);
  const text = await res.text();
  const sum = (name: string) => {
    let total = 0;
    let seen = false;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
      total += Number(m[1]);
      seen = true;
    }
    if (!seen) throw new Error(`querynode ${q.id} at ${q.url} has no ${name} in its /metrics; this script expects the gauges of lib/api/engine-gauges.ts`);
    return total;
  };
  return {
    ...q,
    localSegments: sum('migrans_local_segments'),
    residentSegments: sum('migrans_resident_segments'),
    flushedSegments: sum('migrans_flushed_segments'),
    sealedBytes: sum('migrans_sealed_bytes'),
    diskBytes: sum('migrans_local_disk_bytes'),
    rssBytes: sum('migrans_process_resident_memory_bytes'),
  };
}

/** Sums the sizes of the segment files (insert_log, delta_log, index_files) in the emulator's bucket. */
async function segmentObjectBytes(endpoint: string): Promise<number> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  let total = 0;
  try {
    for (const prefix of ['insert_log/', 'delta_log/', 'index_files/']) {
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: EMULATOR_BUCKET, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) total += o.Size ?? 0;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    }
  } finally {
    s3.destroy();
  }
  return total;
}

/** Prints the per-querynode table; returns whether any node holds more than its tolerated share. */
function printShares(s: Shares): boolean {
  const n = opts.querynodes;
  const r = opts.replicas;
  const ideal = { segments: (s.totalSegments * r) / n, sealed: (s.totalSealedBytes * r) / n, disk: (s.totalObjectBytes * r) / n };
  console.log('');
  console.log(`Share per querynode (ideal = total × ${r} / ${n}; PASS at ≤ ${SHARE_TOLERANCE} × ideal)`);
  console.log(`  total: ${s.totalSegments} segments, ${mib(s.totalSealedBytes)} sealed (est.), ${mib(s.totalObjectBytes)} of segment files in S3`);
  console.log(`  ideal: ${ideal.segments.toFixed(1)} segments, ${mib(ideal.sealed)} sealed, ${mib(ideal.disk)} disk`);
  const header = ['querynode', 'local segs', 'resident segs', 'sealed bytes (est.)', 'local disk', 'RSS', 'result'];
  const rows: string[][] = [];
  let failed = false;
  for (const q of s.nodes) {
    const ratios = [q.localSegments / ideal.segments, q.residentSegments / ideal.segments, q.sealedBytes / ideal.sealed, q.diskBytes / ideal.disk];
    const over = ['local segs', 'resident segs', 'sealed', 'disk'].filter((_, i) => !(ratios[i] <= SHARE_TOLERANCE));
    failed ||= over.length > 0;
    rows.push([
      `${q.id.slice(0, 8)} ${q.url}`,
      `${q.localSegments} (${ratios[0].toFixed(2)}×)`,
      `${q.residentSegments} (${ratios[1].toFixed(2)}×)`,
      `${mib(q.sealedBytes)} (${ratios[2].toFixed(2)}×)`,
      `${mib(q.diskBytes)} (${ratios[3].toFixed(2)}×)`,
      mib(q.rssBytes),
      over.length ? `FAIL (${over.join(', ')})` : 'PASS',
    ]);
  }
  printTable(header, rows);
  // What a node keeps whatever its share (its private PK index of every key, scalars in memory):
  // the intercept of bytes against segments held, fitted over the nodes.
  const fit = (pick: (q: Holdings) => number) => linearFit(s.nodes.map((q) => [q.localSegments, pick(q)]));
  const disk = fit((q) => q.diskBytes);
  const sealed = fit((q) => q.sealedBytes);
  if (disk && sealed)
    console.log(
      `  fit over the nodes: disk ≈ ${mib(disk.intercept)} + ${mib(disk.slope)} per segment, sealed ≈ ${mib(sealed.intercept)} + ${mib(sealed.slope)} per segment (the fixed part is kept by every node whatever its share)`,
    );
  // The claim itself: no segment is held by more querynodes than its replicas, and none by fewer.
  const held = s.totalSegments * r;
  const local = sumOf(s.nodes, 'localSegments');
  const resident = sumOf(s.nodes, 'residentSegments');
  const exact = local === held && resident === held;
  console.log(
    `  held in all: ${local} local, ${resident} resident of ${s.totalSegments} segments × ${r} replica(s) = ${held} (${exact ? 'PASS' : 'FAIL'}: each segment on exactly its ${r} holder(s)); settled in ${s.settledSeconds.toFixed(0)} s`,
  );
  return failed || !exact;
}

/** What the search load measured. */
interface SearchResult {
  requests: number;
  errors: string[];
  seconds: number;
  latenciesMs: number[];
  recall: number;
}

/** Strong searches from `--clients` concurrent clients for `--seconds`, cycling the queries. */
async function searchLoad(api: Rest, queries: Float32Array, truth: Int32Array[]): Promise<SearchResult> {
  const bodies: string[] = [];
  for (let q = 0; q < opts.queries; q++) {
    const params = opts.ef === undefined ? '' : `,"searchParams":{"params":{"ef":${opts.ef}}}`;
    bodies.push(`{"collectionName":"${COLLECTION}","data":[[${Array.from(row(queries, opts.dim, q)).join(',')}]],"limit":${K},"consistencyLevel":"Strong"${params}}`);
  }
  console.log('');
  console.log(`scale: Strong searches from ${opts.clients} clients for ${opts.seconds} s…`);
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let hits = 0;
  let judged = 0;
  let next = 0;
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const q = next++ % opts.queries;
      const start = performance.now();
      try {
        const env = await api.post('entities/search', bodies[q]);
        latenciesMs.push(performance.now() - start);
        const exact = new Set(truth[q]);
        for (const h of env.data as { id: number }[]) if (exact.has(Number(h.id))) hits++;
        judged++;
      } catch (err) {
        errors.push((err as Error).message);
        if (errors.length > 100) return; // something is badly wrong: stop hammering
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  return { requests: latenciesMs.length, errors, seconds: (performance.now() - t0) / 1000, latenciesMs, recall: judged ? hits / (judged * K) : 0 };
}

/** Prints the search numbers; returns whether recall or errors fail the check. */
function printSearches(s: SearchResult): boolean {
  const sorted = [...s.latenciesMs].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
  const recallFailed = !(s.recall >= opts.minRecall);
  console.log(
    `  ${s.requests} searches in ${s.seconds.toFixed(1)} s: ${(s.requests / s.seconds).toFixed(1)} QPS, p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, ` +
      `recall@${K} ${s.recall.toFixed(3)} (${recallFailed ? 'FAIL' : 'PASS'} at ≥ ${opts.minRecall}), ${s.errors.length} errors${s.errors.length ? `: ${s.errors[0]}` : ''}`,
  );
  return recallFailed || s.errors.length > 0 || s.requests === 0;
}

/** Exact top-K row ids of each query by cosine, by brute force over every inserted row. */
function exactTopK(base: Float32Array, queries: Float32Array, dim: number, count: number): Int32Array[] {
  const res = usearch.exactSearch(base, queries, dim, K, usearch.MetricKind.Cos, 0) as BatchMatches;
  const out: Int32Array[] = [];
  for (let q = 0; q < count; q++) out.push(Int32Array.from(res.get(q).keys, Number));
  return out;
}

/**
 * Starts dev:aws under the emulator guard on a free port and resolves once its querynodes serve,
 * with the API URL, the S3 endpoint and each querynode's address from what it prints.
 */
function startDevAws(timeoutMs = 300_000): Promise<DevAws> {
  const args = ['--port', '0', '--token', token, '--querynodes', String(opts.querynodes), '--replicas', String(opts.replicas), '--compaction-interval-ms', '0'];
  const child = spawn(process.execPath, [GUARD, process.execPath, '--import', 'tsx', path.join(ROOT, 'bin', 'dev-aws.ts'), ...args], {
    cwd: ROOT,
    // Compaction off: merging the small segments mid-check would change what each node holds.
    env: { ...process.env, MIGRANS_SEAL_ROWS: String(sealRows) },
    detached: true, // the guard leads a process group: one kill reaches dev-aws and, through their guards, its children
    stdio: ['pipe', 'pipe', 'pipe'], // the guard takes its group down when our end of stdin closes
  });
  guard = child;
  child.stdin!.on('error', () => {});
  const keep = (d: Buffer) => {
    if (opts.verbose) process.stderr.write(d);
    output += d.toString();
    if (output.length > 512 * 1024) output = output.slice(-256 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    const querynodes = new Map<string, string>();
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`dev:aws was not ready within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      for (const m of seen.matchAll(/migrans querynode (\S+) serving at (http:\/\/[\d.]+:\d+)/g)) querynodes.set(m[1], m[2]);
      const url = /listens on (http:\/\/[\d.]+:\d+)/.exec(seen)?.[1];
      const s3 = /emulators at S3 (http:\/\/\S+),/.exec(seen)?.[1];
      const pid = /dev:aws: ready .*pid (\d+)/.exec(seen)?.[1];
      if (!url || !pid) return;
      clearTimeout(timer);
      if (!s3) return reject(new Error('dev:aws did not print its S3 endpoint ("emulators at S3 …"); is bin/dev-aws.ts older than this script?'));
      if (querynodes.size !== opts.querynodes) return reject(new Error(`dev:aws is ready but printed ${querynodes.size} querynode addresses, expected ${opts.querynodes}`));
      resolve({ guard: child, url, s3, pid: Number(pid), querynodes: [...querynodes].map(([id, url]) => ({ id, url })) });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dev:aws exited (${signal ?? code}) before it was ready`));
    });
  });
}

/** A signal: says so, then stops dev:aws and exits with `code`. */
function interrupted(code: number): Promise<void> {
  if (!stopping) console.log('\nscale: interrupted; stopping dev:aws and its emulators and querynodes…');
  return shutdown(code);
}

/**
 * Stops dev:aws (SIGTERM to it, so it takes its children down in order; the whole group is killed
 * if that takes over 20 s or it never got far enough to print its pid) and exits with `code`.
 */
function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    const g = guard;
    if (g && g.exitCode === null && g.signalCode === null) {
      const exited = new Promise<void>((resolve) => g.once('exit', () => resolve()));
      if (devAws) {
        try {
          process.kill(devAws.pid, 'SIGTERM');
        } catch {
          killGroup();
        }
      } else killGroup();
      const timer = setTimeout(killGroup, 20_000);
      await exited;
      clearTimeout(timer);
    }
    process.exit(code);
  })();
  return stopping;
}

/** SIGKILLs the guard's process group; gone already is fine. */
function killGroup(): void {
  if (!guard?.pid || guard.exitCode !== null || guard.signalCode !== null) return;
  try {
    process.kill(-guard.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** A Milvus REST v2 envelope. */
interface Envelope {
  code: number;
  message?: string;
  data?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- each route's payload differs; the callers read what they asked for
}

/** A REST v2 answer that is not a success: the HTTP status and the Milvus code (undefined when the body was not an envelope). */
class RestError extends Error {
  constructor(
    readonly route: string,
    readonly status: number | undefined,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RestError';
  }
}

/** A keep-alive REST v2 client with the bearer token. */
class Rest {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(
    url: string,
    private readonly token: string,
    sockets: number,
  ) {
    this.base = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** POSTs to `/v2/vectordb/<route>`; throws on a non-zero code or a non-200 status. */
  post(route: string, body: string | object): Promise<Envelope> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path: `/v2/vectordb/${route}`,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${this.token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const reply = Buffer.concat(chunks).toString('utf8');
            let env: Envelope;
            try {
              env = JSON.parse(reply);
            } catch {
              return reject(new RestError(route, res.statusCode, undefined, `${route}: HTTP ${res.statusCode} with a body that is not JSON: ${reply.slice(0, 200)}`));
            }
            if (res.statusCode !== 200 || env.code !== 0)
              return reject(new RestError(route, res.statusCode, env.code, `${route}: HTTP ${res.statusCode}, code ${env.code}: ${env.message}`));
            resolve(env);
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  /** Closes the idle connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** A status line rewritten in place on a terminal (one line per 10 % otherwise). */
interface ProgressLine {
  tick(rows: number, elapsedMs: number): void;
  status(text: string): void;
  done(text: string): void;
}

/** The insert progress (and later status) line. */
function progressLine(total: number): ProgressLine {
  const tty = process.stdout.isTTY;
  let done = 0;
  let lastDecile = 0;
  let lastStatus = '';
  const show = (text: string) => (tty ? process.stdout.write(`\r\x1b[2K  ${text}`) : console.log(`  ${text}`));
  return {
    tick(rows, elapsedMs) {
      done += rows;
      const decile = Math.floor((done * 10) / total);
      if (!tty && decile === lastDecile && done < total) return;
      lastDecile = decile;
      show(
        `insert: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows (${Math.round((done * 100) / total)} %), ${Math.round(done / (elapsedMs / 1000))} rows/s`,
      );
    },
    status(text) {
      if (!tty && text.replace(/\d+/g, '') === lastStatus) return; // off a terminal, print only when the wording changes
      lastStatus = text.replace(/\d+/g, '');
      show(text);
    },
    done(text) {
      if (tty) process.stdout.write('\r\x1b[2K');
      console.log(`  ${text}`);
      lastStatus = '';
    },
  };
}

/** Least-squares line through `points` ([x, y]); undefined when the x are all equal. */
function linearFit(points: [number, number][]): { slope: number; intercept: number } | undefined {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Prints left-aligned columns. */
function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => ('  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ')).trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

/** Bytes as MiB with one decimal. */
function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Parses a flag's integer in [min, max]. */
function intIn(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be an integer in ${min}…${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** Parses a flag's number in [min, max]. */
function floatIn(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a number in ${min}…${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

// Last, so that every class and constant above is initialized before the check runs.
try {
  const failed = await run();
  await shutdown(failed ? 1 : 0);
} catch (error) {
  // After Ctrl-C the requests in flight fail as dev:aws stops: that is no news.
  if (!stopping) logger.error('scale: the check could not run', { error, devAwsOutput: output.trim().split('\n').slice(-20).join('\n') });
  await shutdown(1);
}
