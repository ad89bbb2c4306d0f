/**
 * LanceDB embedded (`@lancedb/lancedb` 0.37.1, the newest release that supports Node 20), the peer.
 *
 * Index: IVF_HNSW_SQ with one partition — a single HNSW graph (M 16, efConstruction 128, like the
 * others) over 8-bit scalar-quantised vectors. Of LanceDB's vector indexes it is the one closest
 * to ours and the fastest to reach recall 0.95 on this data (IVF_FLAT reaches it too at a similar
 * QPS; IVF_PQ needs heavy refinement). SQ caps recall near 0.975, so the sweep also runs with
 * `refineFactor(2)` (re-ranking 2·k candidates with the full vectors), which reaches 0.99+.
 * Rows are appended 10,000 per call (each append is a fragment; 1,000-row appends would leave
 * 1,000 fragments at 1M rows, which is not how LanceDB is meant to be fed).
 */
import { row } from '../data.ts';
import type { BenchContext, BenchSystem, FilterSpec, LoadResult, SweepParam } from './types.ts';

const APPEND_ROWS = 10_000;

/** Whether the package loads here (it ships a prebuilt native module per platform). */
export async function lancedbAvailable(): Promise<string | null> {
  try {
    await import('@lancedb/lancedb');
    await import('apache-arrow');
    return null;
  } catch (err) {
    return `@lancedb/lancedb could not be loaded: ${(err as Error).message.split('\n')[0]}`;
  }
}

export function lancedbSystem(): BenchSystem {
  let ctx: BenchContext;
  let table: any = null;
  let db: any = null;
  let version = '';
  return {
    id: 'lancedb',
    label: 'LanceDB 0.37 IVF_HNSW_SQ (embedded)',
    kind: 'peer',
    filtered: true,
    concurrency: 'async',
    sweep(efs: number[]): SweepParam[] {
      const plain = efs.filter((e) => e <= 64);
      const refined = efs.filter((e) => e >= 32 && e <= 256); // LanceDB needs ef ≥ k × refineFactor
      const pick = (xs: number[], want: number[]) => (want.filter((w) => xs.includes(w)).length > 0 ? want.filter((w) => xs.includes(w)) : xs.slice(0, want.length));
      return [...pick(plain, [16, 32, 64]).map((ef) => ({ ef })), ...pick(refined, [32, 64, 128, 256]).map((ef) => ({ ef, refine: 2 }))];
    },
    async load(c: BenchContext): Promise<LoadResult> {
      ctx = c;
      const lancedb = await import('@lancedb/lancedb');
      const arrow = await import('apache-arrow');
      try {
        const { createRequire } = await import('node:module');
        version = createRequire(import.meta.url)('@lancedb/lancedb/package.json').version;
      } catch {
        version = '?';
      }
      const { n, dim } = c.ds.params;
      db = await lancedb.connect(`${c.workDir}/lance`);
      const batch = (from: number, to: number) => {
        const m = to - from;
        const ids = new BigInt64Array(m);
        const bucket = new Int32Array(m);
        for (let i = 0; i < m; i++) {
          ids[i] = BigInt(from + i);
          bucket[i] = c.ds.bucket[from + i];
        }
        const vectors = arrow.makeVector(
          arrow.makeData({
            type: new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)),
            length: m,
            nullCount: 0,
            child: arrow.makeData({ type: new arrow.Float32(), length: m * dim, data: c.ds.base.slice(from * dim, to * dim) }),
          }),
        );
        return new arrow.Table({ id: arrow.makeVector(ids), bucket: arrow.makeVector(bucket), vector: vectors });
      };
      const phase = c.progress.phase(`${this.id}: append ${APPEND_ROWS}-row batches`, n);
      const t0 = performance.now();
      for (let i = 0; i < n; i += APPEND_ROWS) {
        const j = Math.min(n, i + APPEND_ROWS);
        if (i === 0) table = await db.createTable('bench', batch(0, j));
        else await table.add(batch(i, j));
        phase.set(j);
      }
      const appended = performance.now();
      phase.done(`${n} rows in ${((appended - t0) / 1000).toFixed(1)} s`);
      const build = c.progress.phase(`${this.id}: build IVF_HNSW_SQ`, 1);
      await table.createIndex('vector', {
        config: lancedb.Index.hnswSq({ distanceType: 'cosine', m: c.M, efConstruction: c.efConstruction, numPartitions: 1 }),
      });
      const indexed = performance.now();
      build.done(`${((indexed - appended) / 1000).toFixed(1)} s`);
      await table.createIndex('id', { config: lancedb.Index.btree() });
      await table.createIndex('bucket', { config: lancedb.Index.btree() });
      return {
        rows: n,
        rowsPerSecond: n / ((appended - t0) / 1000),
        insertSeconds: (appended - t0) / 1000,
        indexedSeconds: (indexed - t0) / 1000,
        buildSeconds: (indexed - appended) / 1000,
        notes: [`@lancedb/lancedb ${version}; ${APPEND_ROWS}-row appends; IVF_HNSW_SQ numPartitions 1; btree indexes on id and bucket built after (not timed)`],
      };
    },
    async search(q: number, p: SweepParam, filter?: FilterSpec) {
      let s = table
        .vectorSearch(row(ctx.ds.queries, ctx.ds.params.dim, q))
        .distanceType('cosine')
        .limit(ctx.k)
        .ef(p.ef)
        .nprobes(1)
        .select(['id', '_distance']);
      if (p.refine) s = s.refineFactor(p.refine);
      if (filter) s = s.where(filter.expr);
      const rows = await s.toArray();
      return rows.map((r: { id: bigint }) => Number(r.id));
    },
    async get(pk: number) {
      const rows = await table.query().where(`id = ${pk}`).limit(1).toArray();
      if (rows.length !== 1) throw new Error(`lancedb get ${pk} returned ${rows.length} rows`);
    },
    async close() {
      table?.close?.();
      db?.close?.();
      table = null;
      db = null;
    },
  };
}
