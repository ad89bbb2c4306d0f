/**
 * Migrans through its REST API: `migrans serve` as its own process (as users run it), driven over
 * loopback with keep-alive connections. The AWS path (API Gateway → Lambda → Kinesis …) does not
 * exist yet; the harness records it as skipped.
 */
import * as path from 'node:path';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.ts';
import { row } from '../data.ts';
import { procMemory, sleep } from '../metrics.ts';
import { RestClient, vectorJson } from './http-client.ts';
import { BENCH_ENGINE_ENV, benchCreateBody, COLLECTION, ingestBatches } from './migrans-common.ts';
import { waitIndexed } from './migrans-engine.ts';
import type { BenchContext, BenchSystem, FilterSpec, FreshnessLevel, LoadResult, SweepParam } from './types.ts';

/** Starts `migrans serve --port 0` with the bench's engine settings and resolves once it listens. */
function startServer(dataDir: string): Promise<ServerProcess> {
  // MIGRANS_BENCH_SERVER_NODE_ARGS (set by bench/profile.ts --server-prof) adds node flags such as --cpu-prof.
  const nodeArgs = (process.env.MIGRANS_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startServerProcess(dataDir, BENCH_ENGINE_ENV, { nodeArgs, timeoutMs: 60_000 });
}

/** SIGTERM (a --cpu-prof server writes its profile then); SIGKILL if it has not exited after 30 s. */
async function stopServer(s: ServerProcess): Promise<void> {
  if (s.child.exitCode !== null) return;
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  await s.stop();
  clearTimeout(timer);
}

export function migransHttp(quantization: 'f32' | 'bf16' = 'f32'): BenchSystem {
  let ctx: BenchContext;
  let server: ServerProcess | null = null;
  let client: RestClient | null = null;
  let dataDir: string;
  const queryJson: string[] = [];
  const searchBody = (q: number, ef: number, filter?: FilterSpec, extra = '') =>
    `{"collectionName":"${COLLECTION}","data":[${queryJson[q]}],"limit":${ctx.k},"searchParams":{"params":{"ef":${ef}}}` +
    (filter ? `,"filter":${JSON.stringify(filter.expr)}` : '') +
    extra +
    '}';
  const hitIds = (data: { id: number }[]) => data.map((h) => Number(h.id));
  const id = quantization === 'f32' ? 'migrans-http' : `migrans-http-${quantization}`;
  const describeIndex = async () => {
    const d = (await client!.post('indexes/describe', { collectionName: COLLECTION, indexName: 'vector' })).data[0];
    return { pendingRows: d.pendingRows, state: d.indexState, indexedRows: d.indexedRows };
  };
  async function start(c: BenchContext): Promise<void> {
    ctx = c;
    for (let q = 0; q < c.ds.params.queries; q++) queryJson.push(vectorJson(row(c.ds.queries, c.ds.params.dim, q)));
    dataDir = path.join(c.workDir, 'data');
    server = await startServer(dataDir);
    client = new RestClient(server.url);
  }
  async function loadInner(c: BenchContext): Promise<LoadResult> {
    await start(c);
    const { n, dim } = c.ds.params;
    await client!.post('collections/create', benchCreateBody(c, quantization));
    const batches = Math.ceil(n / c.batchRows);
    const phase = c.progress.phase(`${id}: insert ${c.batchRows}-row batches`, n);
    const t0 = performance.now();
    await ingestBatches(batches, c.ingestConcurrency, async (b) => {
      const from = b * c.batchRows;
      const to = Math.min(n, from + c.batchRows);
      // JSON.stringify, as SDK clients encode a body: the same text as per-value concatenation,
      // 3–5× faster, which matters because this single client thread must not be the bottleneck.
      const rows: object[] = new Array(to - from);
      for (let i = from; i < to; i++) rows[i - from] = { id: i, bucket: c.ds.bucket[i], vector: Array.from(c.ds.base.subarray(i * dim, (i + 1) * dim)) };
      await client!.post('entities/insert', JSON.stringify({ collectionName: COLLECTION, data: rows }));
      phase.tick(to - from);
    });
    const acked = performance.now();
    phase.done(`${n} rows acknowledged in ${((acked - t0) / 1000).toFixed(1)} s`);
    const wait = c.progress.phase(`${id}: flush + index`, n);
    await client!.post('collections/flush', { collectionName: COLLECTION });
    await waitIndexed(describeIndex, (x) => wait.set(x));
    const indexed = performance.now();
    wait.done(`indexed ${((indexed - t0) / 1000).toFixed(1)} s after the first insert`);
    const mem = procMemory(server!.child.pid!);
    return {
      rows: n,
      rowsPerSecond: n / ((acked - t0) / 1000),
      insertSeconds: (acked - t0) / 1000,
      indexedSeconds: (indexed - t0) / 1000,
      peakRssMiB: mem?.peakRssMiB,
      notes: [`peak RSS of the server process after indexing (current ${mem?.rssMiB.toFixed(0)} MiB)`, `${c.ingestConcurrency} insert request(s) in flight`],
    };
  }
  return {
    id,
    label: `Migrans ${quantization} via REST (embedded server)`,
    kind: 'migrans',
    quantization,
    filtered: true,
    concurrency: 'async',
    async load(c: BenchContext): Promise<LoadResult> {
      try {
        return await loadInner(c);
      } catch (err) {
        // A dead server explains an EPIPE / ECONNRESET: say what it printed.
        const out = server?.output().trim().split('\n').slice(-15).join('\n');
        const exit = server?.child.exitCode ?? server?.child.signalCode;
        throw new Error(`${(err as Error).message}${server ? `; server ${exit === null ? 'still running' : `exited (${exit})`}, its last output:\n${out}` : ''}`, { cause: err });
      }
    },
    attach: start,
    async compact() {
      const t0 = performance.now();
      const id = (await client!.post('collections/compact', { collectionName: COLLECTION })).data.compactionID;
      while ((await client!.post('collections/get_compaction_state', { compactionID: id })).data.state !== 'Completed') await sleep(50);
      await waitIndexed(describeIndex);
      return { seconds: (performance.now() - t0) / 1000 };
    },
    serverPid() {
      return server?.child.pid;
    },
    async search(q: number, p: SweepParam, filter?: FilterSpec) {
      const env = JSON.parse(await client!.postText('entities/search', searchBody(q, p.ef, filter)));
      if (env.code !== 0) throw new Error(`search failed: ${env.code} ${env.message}`);
      return hitIds(env.data);
    },
    async get(pk: number) {
      const env = JSON.parse(await client!.postText('entities/get', `{"collectionName":"${COLLECTION}","id":[${pk}],"outputFields":["*"]}`));
      if (env.code !== 0 || env.data.length !== 1) throw new Error(`get ${pk} failed: ${JSON.stringify(env).slice(0, 200)}`);
    },
    async freshness(pk: number, q: number, level: FreshnessLevel) {
      const w = await client!.post('entities/insert', `{"collectionName":"${COLLECTION}","data":[{"id":${pk},"bucket":0,"vector":${queryJson[q]}}]}`);
      const ackMs = performance.now();
      const extra = `,"consistencyLevel":"${level}"` + (level === 'Session' ? `,"sessionToken":"${w.sessionToken}"` : '');
      for (let polls = 1; ; polls++) {
        const env = JSON.parse(await client!.postText('entities/search', searchBody(q, 128, undefined, extra)));
        if (env.code !== 0) throw new Error(`search failed: ${env.code} ${env.message}`);
        if (hitIds(env.data).includes(pk)) return { ackMs, visibleMs: performance.now(), polls };
        if (polls > 100_000) throw new Error(`row ${pk} not visible after ${polls} polls`);
      }
    },
    async reopen() {
      client!.close();
      await stopServer(server!);
      const t0 = performance.now();
      server = await startServer(dataDir);
      const listening = performance.now();
      client = new RestClient(server.url);
      await this.search(0, { ef: 128 });
      const first = performance.now();
      return { startMs: listening - t0, firstQueryMs: first - listening, totalMs: first - t0 };
    },
    async close() {
      client?.close();
      if (server) await stopServer(server);
      server = null;
    },
  };
}
