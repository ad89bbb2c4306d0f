/**
 * Exact scan: every row scored for every query (usearch's SIMD brute force, one thread per query).
 * The limit for recall 1.0 — what an index must beat to be worth having.
 */
import usearch, { type Matches } from 'usearch';
import { row } from '../data.ts';
import type { BenchContext, BenchSystem, LoadResult } from './types.ts';

export function exactScan(): BenchSystem {
  let ctx: BenchContext;
  return {
    id: 'exact',
    label: 'exact scan (usearch brute force, f32)',
    kind: 'exact',
    maxQueries: 200,
    sweep: () => [{ ef: 0 }],
    async load(c: BenchContext): Promise<LoadResult> {
      ctx = c;
      return { rows: c.ds.params.n, rowsPerSecond: Infinity, insertSeconds: 0, indexedSeconds: 0, notes: ['no index: nothing to build'] };
    },
    search(q: number): number[] {
      const { dim } = ctx.ds.params;
      // slice(): exactSearch (unlike Index.search) ignores a typed array's byteOffset (usearch 2.25.3).
      const m = usearch.exactSearch(ctx.ds.base, row(ctx.ds.queries, dim, q).slice(), dim, ctx.k, usearch.MetricKind.Cos, 1) as Matches;
      return Array.from(m.keys, Number);
    },
    async close() {},
  };
}
