/**
 * Vector search within one segment, filter-aware: when few rows pass the filter they are scored
 * exactly; otherwise the HNSW index is searched with an acceptance test and over-fetching.
 */
import type { EngineConfig } from '../engine-config.ts';
import type { MetricType, VectorIndex } from '../ports/vector-index.ts';
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
  /** Range search: only scores inside the bounds count. */
  range?: ScoreRange;
}

/** Range-search bounds on scores (Milvus `radius` / `range_filter`). */
export interface ScoreRange {
  /** Whether a score lies inside the bounds. */
  contains(score: number): boolean;
  /** Whether a score is past the outer bound: hits ranked after it cannot be inside either. */
  beyond(score: number): boolean;
}

/** Exact top-k over a vector column, restricted to `candidates` or to rows `accept` allows. */
export function exactSearch(
  metric: MetricType,
  query: Float32Array,
  column: VectorColumn,
  k: number,
  candidates?: ArrayLike<number>,
  accept?: (offset: number) => boolean,
  range?: ScoreRange,
): { keys: number[]; scores: number[] } {
  const heap = new TopKHeap(k, higherIsBetter(metric));
  const data = column.data();
  const dim = column.dim;
  const qn = metric === 'COSINE' ? norm(query) : 0;
  if (candidates) {
    for (let i = 0; i < candidates.length; i++) {
      const o = candidates[i];
      const sc = score(metric, query, data, o * dim, qn);
      if (!range || range.contains(sc)) heap.push(o, sc);
    }
  } else {
    const n = column.length;
    for (let o = 0; o < n; o++) {
      if (accept && !accept(o)) continue;
      const sc = score(metric, query, data, o * dim, qn);
      if (!range || range.contains(sc)) heap.push(o, sc);
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
    ({ keys, scores } = exactSearch(p.metric, p.query, column, p.k, candidates, notDeleted, p.range));
  } else {
    let accept = notDeleted;
    if (candidates) {
      const pass = new Uint8Array(n);
      for (const o of candidates) pass[o] = 1;
      accept = (o) => pass[o] === 1;
    }
    ({ keys, scores } = p.range ? rangeSearch(index, p, accept, n) : index.search(p.query, p.k, { ef: p.ef, accept }));
  }
  const hits: Hit[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) hits[i] = { segment: seg, offset: keys[i], score: scores[i] };
  return hits;
}

/**
 * Range search on a graph index: widen the beam until k hits fall inside the bounds, the ranked
 * list passes the outer bound, or the whole segment was ranked.
 */
function rangeSearch(index: VectorIndex, p: SegmentSearchParams, accept: ((o: number) => boolean) | undefined, n: number): { keys: number[]; scores: number[] } {
  for (let count = Math.max(p.k, p.ef ?? 0, 64); ; count *= 4) {
    const res = index.search(p.query, Math.min(count, n), { ef: p.ef, accept });
    const keys: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < res.keys.length && keys.length < p.k; i++) {
      if (p.range!.contains(res.scores[i])) {
        keys.push(res.keys[i]);
        scores.push(res.scores[i]);
      }
    }
    const last = res.scores[res.scores.length - 1];
    if (keys.length >= p.k || count >= n || res.keys.length < Math.min(count, n) || p.range!.beyond(last)) return { keys, scores };
  }
}

/** Merges per-segment hits into the global order (best first). */
export function reduceHits(lists: Hit[][], metric: MetricType): Hit[] {
  const all = lists.flat();
  const desc = higherIsBetter(metric);
  all.sort((a, b) => (desc ? b.score - a.score : a.score - b.score));
  return all;
}
