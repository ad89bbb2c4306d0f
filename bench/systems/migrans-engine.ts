/**
 * Migrans, in-process: `openEmbeddedDatabase` and the engine API, no HTTP. Rows go in as plain JSON
 * rows (as the REST layer hands them over), searches pass the sweep's `ef`.
 */
import * as path from 'node:path';
import { openEmbeddedDatabase } from '../../lib/embedded.ts';
import type { Database } from '../../lib/engine/database.ts';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { row } from '../data.ts';
import { procMemory, sleep } from '../metrics.ts';
import { BENCH_ENGINE_CONFIG, benchSpec, COLLECTION, ingestBatches } from './migrans-common.ts';
import type { BenchContext, BenchSystem, FilterSpec, FreshnessLevel, LoadResult, SweepParam } from './types.ts';

type Db = EngineDatabase & Database;

/** Waits until every row is in an indexed segment (describe index: no pending rows). */
export async function waitIndexed(
  describe: () => Promise<{ pendingRows: number; state: string; indexedRows: number }>,
  onProgress?: (indexed: number) => void,
  pollMs = 20,
): Promise<void> {
  for (;;) {
    const s = await describe();
    onProgress?.(s.indexedRows);
    if (s.pendingRows === 0 && s.state === 'Finished') return;
    await sleep(pollMs);
  }
}

export function migransEngine(quantization: 'f32' | 'bf16'): BenchSystem {
  let db: Db | null = null;
  let ctx: BenchContext;
  let dataDir: string;
  const open = () => openEmbeddedDatabase({ dataDir, config: BENCH_ENGINE_CONFIG });
  const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id));
  const query = (q: number) => row(ctx.ds.queries, ctx.ds.params.dim, q);
  return {
    id: quantization === 'f32' ? 'migrans-engine' : `migrans-engine-${quantization}`,
    label: `Migrans engine ${quantization} (in-process)`,
    kind: 'migrans',
    quantization,
    filtered: true,
    async load(c: BenchContext): Promise<LoadResult> {
      ctx = c;
      dataDir = path.join(c.workDir, 'data');
      db = await open();
      await db.createCollection('default', benchSpec(c, quantization));
      const { n, dim } = c.ds.params;
      const batches = Math.ceil(n / c.batchRows);
      const phase = c.progress.phase(`${this.id}: insert ${c.batchRows}-row batches`, n);
      const t0 = performance.now();
      await ingestBatches(batches, c.ingestConcurrency, async (b) => {
        const from = b * c.batchRows;
        const to = Math.min(n, from + c.batchRows);
        const rows = new Array(to - from);
        for (let i = from; i < to; i++) rows[i - from] = { id: i, vector: Array.from(c.ds.base.subarray(i * dim, (i + 1) * dim)), bucket: c.ds.bucket[i] };
        await db!.insert('default', COLLECTION, rows, { upsert: false });
        phase.tick(to - from);
      });
      const acked = performance.now();
      phase.done(`${n} rows acknowledged in ${((acked - t0) / 1000).toFixed(1)} s`);
      const wait = c.progress.phase(`${this.id}: flush + index`, n);
      await db.flush('default', COLLECTION);
      await waitIndexed(
        async () => (await db!.describeIndex('default', COLLECTION, 'vector'))[0],
        (x) => wait.set(x),
      );
      const indexed = performance.now();
      wait.done(`indexed ${((indexed - t0) / 1000).toFixed(1)} s after the first insert`);
      return {
        rows: n,
        rowsPerSecond: n / ((acked - t0) / 1000),
        insertSeconds: (acked - t0) / 1000,
        indexedSeconds: (indexed - t0) / 1000,
        peakRssMiB: procMemory()?.peakRssMiB,
        notes: ['peak RSS is the whole bench process (data set and other in-process systems included)'],
      };
    },
    async attach(c: BenchContext) {
      ctx = c;
      dataDir = path.join(c.workDir, 'data');
      db = await open();
    },
    async search(q: number, p: SweepParam, filter?: FilterSpec) {
      const res = await db!.search('default', COLLECTION, { vectors: [query(q)], limit: ctx.k, ef: p.ef, filter: filter?.expr });
      return ids(res[0]);
    },
    async get(pk: number) {
      const rows = await db!.get('default', COLLECTION, [BigInt(pk)], { outputFields: ['*'] });
      if (rows.length !== 1) throw new Error(`get ${pk} returned ${rows.length} rows`);
    },
    async writeAck(pk: number, count: number) {
      const { n, dim } = ctx.ds.params;
      const rows = new Array(count);
      for (let j = 0; j < count; j++) {
        const i = (pk + j) % n;
        rows[j] = { id: pk + j, vector: Array.from(ctx.ds.base.subarray(i * dim, (i + 1) * dim)), bucket: ctx.ds.bucket[i] };
      }
      await db!.insert('default', COLLECTION, rows, { upsert: false });
    },
    async freshness(pk: number, q: number, level: FreshnessLevel) {
      const v = query(q);
      const w = await db!.insert('default', COLLECTION, [{ id: pk, vector: Array.from(v), bucket: 0 }], { upsert: false });
      const ackMs = performance.now();
      for (let polls = 1; ; polls++) {
        const res = await db!.search('default', COLLECTION, {
          vectors: [v],
          limit: ctx.k,
          consistencyLevel: level,
          sessionToken: level === 'Session' ? w.sessionToken : undefined,
        });
        if (res[0].some((r) => Number(r.id) === pk)) return { ackMs, visibleMs: performance.now(), polls };
        if (polls > 100_000) throw new Error(`row ${pk} not visible after ${polls} polls`);
        await new Promise((r) => setImmediate(r));
      }
    },
    async compact() {
      const t0 = performance.now();
      const id = await db!.compact('default', COLLECTION);
      while ((await db!.getCompactionState(id)).state !== 'Completed') await sleep(50);
      await waitIndexed(async () => (await db!.describeIndex('default', COLLECTION, 'vector'))[0]);
      return { seconds: (performance.now() - t0) / 1000, segments: db!.runtimeOf(COLLECTION).segments.size };
    },
    async reopen() {
      await db!.close();
      db = null;
      const t0 = performance.now();
      db = await open();
      const opened = performance.now();
      await db.search('default', COLLECTION, { vectors: [query(0)], limit: ctx.k });
      const first = performance.now();
      return { openMs: opened - t0, firstQueryMs: first - opened, totalMs: first - t0 };
    },
    async close() {
      await db?.close();
      db = null;
    },
  };
}
