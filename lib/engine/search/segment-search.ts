/**
 * Vector search within one segment, filter-aware: when few rows pass the filter they are scored
 * exactly; otherwise the HNSW index is searched with an acceptance test and over-fetching.
 */
import type { EngineConfig } from '../engine-config.ts';
import type { MetricType } from '../ports/vector-index.ts';
import type { Segment } from '../segment/segment.ts';
import type { VectorColumn } from '../segment/vector-column.ts';
import { higherIsBetter, norm, score } from './metric.ts';
import { TopKHeap } from './topk-heap.ts';

/** One hit before materialization. */
export interface Hit {
  segment: Segment;
  offset: number;
  score: number;
}

/** Parameters of one query vector's search. */
export interface SegmentSearchParams {
  field: string;
  metric: MetricType;
  query: Float32Array;
  /** Hits wanted from each segment (limit + offset). */
  k: number;
  ef?: number;
  /** Filter bound to the segment, if any. */
  filter?: (offset: number) => boolean;
}

/** Exact top-k over a vector column, restricted to `candidates` or to rows `accept` allows. */
export function exactSearch(
  metric: MetricType,
  query: Float32Array,
  column: VectorColumn,
  k: number,
  candidates?: ArrayLike<number>,
  accept?: (offset: number) => boolean,
): { keys: number[]; scores: number[] } {
  const heap = new TopKHeap(k, higherIsBetter(metric));
  const data = column.data();
  const dim = column.dim;
  const qn = metric === 'COSINE' ? norm(query) : 0;
  if (candidates) {
    for (let i = 0; i < candidates.length; i++) {
      const o = candidates[i];
      heap.push(o, score(metric, query, data, o * dim, qn));
    }
  } else {
    const n = column.length;
    for (let o = 0; o < n; o++) {
      if (accept && !accept(o)) continue;
      heap.push(o, score(metric, query, data, o * dim, qn));
    }
  }
  return heap.sorted();
}

/** The best `k` live rows of a segment that pass the filter. */
export function searchSegment(seg: Segment, p: SegmentSearchParams, config: EngineConfig): Hit[] {
  const n = seg.rowCount;
  if (n === 0 || p.k <= 0) return [];
  const index = seg.indexes.get(p.field);
  const column = seg.vectors(p.field);
  let candidates: number[] | undefined;
  if (p.filter) {
    candidates = [];
    for (let o = 0; o < n; o++) if (!seg.isDeleted(o) && p.filter(o)) candidates.push(o);
    if (candidates.length === 0) return [];
  }
  const notDeleted = seg.deletedCount > 0 ? (o: number) => !seg.isDeleted(o) : undefined;
  let keys: ArrayLike<number>;
  let scores: ArrayLike<number>;
  const exact =
    !index ||
    (candidates !== undefined && (candidates.length <= config.exactSearchMaxCandidates || candidates.length <= n * config.exactSearchMaxSelectivity));
  if (exact) {
    ({ keys, scores } = exactSearch(p.metric, p.query, column, p.k, candidates, notDeleted));
  } else {
    let accept = notDeleted;
    if (candidates) {
      const pass = new Uint8Array(n);
      for (const o of candidates) pass[o] = 1;
      accept = (o) => pass[o] === 1;
    }
    ({ keys, scores } = index.search(p.query, p.k, { ef: p.ef, accept }));
  }
  const hits: Hit[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) hits[i] = { segment: seg, offset: keys[i], score: scores[i] };
  return hits;
}

/** Merges per-segment hits into the global order (best first). */
export function reduceHits(lists: Hit[][], metric: MetricType): Hit[] {
  const all = lists.flat();
  const desc = higherIsBetter(metric);
  all.sort((a, b) => (desc ? b.score - a.score : a.score - b.score));
  return all;
}
