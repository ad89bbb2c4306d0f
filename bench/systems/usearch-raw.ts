/**
 * The ceiling: usearch HNSW in-process, no database around it. Same M / efConstruction as the
 * others, and the same way of choosing ef per query as the engine (see bench/README.md): the index
 * is created with expansion_search 16 and each search asks for max(k, ef) results, of which the
 * first k are kept — HNSW's effective beam is max(expansion_search, count).
 */
import usearch, { type BatchMatches, type Index } from 'usearch';
import { row } from '../data.ts';
import type { BenchContext, BenchSystem, LoadResult, SweepParam } from './types.ts';

/** expansion_search of the index; the engine (lib/adapters/vector/hnsw-vector-index.ts) uses 16 too. */
const BASE_EXPANSION_SEARCH = 16;

export function usearchRaw(quantization: 'f32' | 'bf16'): BenchSystem {
  let index: Index | null = null;
  let ctx: BenchContext;
  const take = (keys: BigUint64Array, k: number): number[] => {
    const n = Math.min(k, keys.length);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = Number(keys[i]);
    return out;
  };
  return {
    id: `usearch-${quantization}`,
    label: `usearch ${quantization} (raw, in-process)`,
    kind: 'ceiling',
    quantization,
    concurrency: 'threads',
    async load(c: BenchContext): Promise<LoadResult> {
      ctx = c;
      const { n, dim } = c.ds.params;
      index = new usearch.Index({
        dimensions: dim,
        metric: usearch.MetricKind.Cos,
        quantization: quantization === 'f32' ? usearch.ScalarKind.F32 : usearch.ScalarKind.BF16,
        connectivity: c.M,
        expansion_add: c.efConstruction,
        expansion_search: BASE_EXPANSION_SEARCH,
        multi: false,
      });
      const keys = new BigUint64Array(n);
      for (let i = 0; i < n; i++) keys[i] = BigInt(i);
      // Added in slices so the bar moves; each slice uses every build thread (≈ one call).
      const slice = Math.max(1000, Math.ceil(n / 50));
      const phase = c.progress.phase(`${this.id}: build (${c.buildThreads} threads)`, n);
      const t0 = performance.now();
      for (let i = 0; i < n; i += slice) {
        const j = Math.min(n, i + slice);
        index.add(keys.subarray(i, j), c.ds.base.subarray(i * dim, j * dim), c.buildThreads);
        phase.set(j);
      }
      const seconds = (performance.now() - t0) / 1000;
      phase.done(`${n} rows in ${seconds.toFixed(1)} s`);
      return { rows: n, rowsPerSecond: n / seconds, insertSeconds: seconds, indexedSeconds: seconds, buildSeconds: seconds };
    },
    search(q: number, p: SweepParam): number[] {
      const m = index!.search(row(ctx.ds.queries, ctx.ds.params.dim, q), Math.max(ctx.k, p.ef), 1);
      return take(m.keys, ctx.k);
    },
    searchBatch(queries: number[], p: SweepParam, threads: number): number[][] {
      const dim = ctx.ds.params.dim;
      const m = new Float32Array(queries.length * dim);
      queries.forEach((q, i) => m.set(row(ctx.ds.queries, dim, q), i * dim));
      const res = index!.search(m, Math.max(ctx.k, p.ef), threads) as BatchMatches;
      return queries.map((_, i) => take(res.get(i).keys, ctx.k));
    },
    async close() {
      index = null;
    },
  };
}
