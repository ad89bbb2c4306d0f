/**
 * What the REST systems share: a Milvus REST v2 server in its own process (`migrans serve`, or the
 * AWS code path of `npm run dev:aws`), driven over loopback by the keep-alive RestClient. Each system
 * only says how its server starts; creating the collection, ingest, describe-index polling, search,
 * get, write acks, freshness, compaction and reopen are the same requests for both.
 */
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { row } from '../data.ts';
import { sleep } from '../metrics.ts';
import { RestClient, vectorJson } from './http-client.ts';
import { benchCreateBody, COLLECTION, ingestBatches } from './migrans-common.ts';
import { waitIndexed } from './migrans-engine.ts';
import type { BenchContext, BenchSystem, FilterSpec, FreshnessLevel, LoadResult, SweepParam } from './types.ts';

/** A running REST server process. */
export interface RestServer {
  /** Base URL, e.g. `http://127.0.0.1:40000`. */
  url: string;
  /** The process (for a tree of processes, its root) whose CPU time and memory are charged to the server. */
  pid: number;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  /** Exit code or signal once it has exited, null while it runs. */
  exitStatus(): string | number | null;
  /** Stops it gracefully (a `--cpu-prof` server writes its profile then); killed if that hangs. */
  stop(): Promise<void>;
}

/** How one REST system differs from the others. */
export interface RestSystemSpec {
  id: string;
  label: string;
  quantization: 'f32' | 'bf16';
  /** Starts the server (resolves once it answers requests); `dataDir` is where it may keep files. */
  start(dataDir: string): Promise<RestServer>;
  /** Peak RSS of the server after indexing, in MiB, and how it was taken. */
  memory(server: RestServer): { peakRssMiB?: number; note: string };
  /** Pause between describe-index polls while waiting for the index (ms). */
  indexPollMs?: number;
  /** Per-system caps (see BenchSystem). */
  maxQueries?: number;
  maxSamples?: number;
  /** Whether stopping and starting the server keeps the data (false: it lives in emulators that go with it). */
  reopens: boolean;
  /** Whether `collections/compact` is offered. */
  compacts: boolean;
  notes?: string[];
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves once it exited. */
export async function stopChild(child: ChildProcess, graceMs: number, killTarget: number = child.pid!): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(killTarget, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** A BenchSystem over a Milvus REST v2 server started by `spec.start`. */
export function restSystem(spec: RestSystemSpec): BenchSystem {
  let ctx: BenchContext;
  let server: RestServer | null = null;
  let client: RestClient | null = null;
  let dataDir: string;
  const queryJson: string[] = [];
  const { id } = spec;
  const searchBody = (q: number, ef: number, filter?: FilterSpec, extra = '') =>
    `{"collectionName":"${COLLECTION}","data":[${queryJson[q]}],"limit":${ctx.k},"searchParams":{"params":{"ef":${ef}}}` +
    (filter ? `,"filter":${JSON.stringify(filter.expr)}` : '') +
    extra +
    '}';
  const hitIds = (data: { id: number }[]) => data.map((h) => Number(h.id));
  const describeIndex = async () => {
    const d = (await client!.post('indexes/describe', { collectionName: COLLECTION, indexName: 'vector' })).data[0];
    return { pendingRows: d.pendingRows, state: d.indexState, indexedRows: d.indexedRows };
  };
  /** Insert rows `{id, bucket, vector}` as SDK clients encode them (JSON.stringify). */
  const insertRows = (from: number, count: number, pkBase: number) => {
    const { n, dim } = ctx.ds.params;
    const rows: object[] = new Array(count);
    for (let j = 0; j < count; j++) {
      const i = (from + j) % n;
      rows[j] = { id: pkBase + j, bucket: ctx.ds.bucket[i], vector: Array.from(ctx.ds.base.subarray(i * dim, (i + 1) * dim)) };
    }
    return client!.post('entities/insert', JSON.stringify({ collectionName: COLLECTION, data: rows }));
  };
  async function start(c: BenchContext): Promise<void> {
    ctx = c;
    for (let q = 0; q < c.ds.params.queries; q++) queryJson.push(vectorJson(row(c.ds.queries, c.ds.params.dim, q)));
    dataDir = path.join(c.workDir, 'data');
    server = await spec.start(dataDir);
    client = new RestClient(server.url);
  }
  async function loadInner(c: BenchContext): Promise<LoadResult> {
    await start(c);
    const { n } = c.ds.params;
    await client!.post('collections/create', benchCreateBody(c, spec.quantization));
    const batches = Math.ceil(n / c.batchRows);
    const phase = c.progress.phase(`${id}: insert ${c.batchRows}-row batches`, n);
    const t0 = performance.now();
    await ingestBatches(batches, c.ingestConcurrency, async (b) => {
      const from = b * c.batchRows;
      const count = Math.min(n, from + c.batchRows) - from;
      // JSON.stringify, as SDK clients encode a body: 3–5× faster than per-value concatenation,
      // which matters because this single client thread must not be the bottleneck.
      await insertRows(from, count, from);
      phase.tick(count);
    });
    const acked = performance.now();
    phase.done(`${n} rows acknowledged in ${((acked - t0) / 1000).toFixed(1)} s`);
    const wait = c.progress.phase(`${id}: flush + index`, n);
    await client!.post('collections/flush', { collectionName: COLLECTION });
    await waitIndexed(describeIndex, (x) => wait.set(x), spec.indexPollMs);
    const indexed = performance.now();
    wait.done(`indexed ${((indexed - t0) / 1000).toFixed(1)} s after the first insert`);
    const mem = spec.memory(server!);
    return {
      rows: n,
      rowsPerSecond: n / ((acked - t0) / 1000),
      insertSeconds: (acked - t0) / 1000,
      indexedSeconds: (indexed - t0) / 1000,
      peakRssMiB: mem.peakRssMiB,
      notes: [mem.note, `${c.ingestConcurrency} insert request(s) in flight`, ...(spec.notes ?? [])],
    };
  }
  const system: BenchSystem = {
    id,
    label: spec.label,
    kind: 'migrans',
    quantization: spec.quantization,
    filtered: true,
    concurrency: 'async',
    maxQueries: spec.maxQueries,
    maxSamples: spec.maxSamples,
    async load(c: BenchContext): Promise<LoadResult> {
      try {
        return await loadInner(c);
      } catch (err) {
        // A dead server explains an EPIPE / ECONNRESET: say what it printed.
        const out = server?.output().trim().split('\n').slice(-15).join('\n');
        const exit = server?.exitStatus() ?? null;
        throw new Error(`${(err as Error).message}${server ? `; server ${exit === null ? 'still running' : `exited (${exit})`}, its last output:\n${out}` : ''}`, { cause: err });
      }
    },
    attach: start,
    serverPid() {
      return server?.pid;
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
    async writeAck(pk: number, rows: number) {
      await insertRows(pk, rows, pk);
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
    async close() {
      client?.close();
      if (server) await server.stop();
      server = null;
    },
  };
  if (spec.compacts) {
    system.compact = async () => {
      const t0 = performance.now();
      const cid = (await client!.post('collections/compact', { collectionName: COLLECTION })).data.compactionID;
      while ((await client!.post('collections/get_compaction_state', { compactionID: cid })).data.state !== 'Completed') await sleep(50);
      await waitIndexed(describeIndex, undefined, spec.indexPollMs);
      return { seconds: (performance.now() - t0) / 1000 };
    };
  }
  if (spec.reopens) {
    system.reopen = async () => {
      client!.close();
      await server!.stop();
      const t0 = performance.now();
      server = await spec.start(dataDir);
      const listening = performance.now();
      client = new RestClient(server.url);
      await system.search(0, { ef: 128 });
      const first = performance.now();
      return { startMs: listening - t0, firstQueryMs: first - listening, totalMs: first - t0 };
    };
  }
  return system;
}
