/**
 * Vector search within one segment, filter-aware: when few rows pass the filter they are scored
 * exactly; otherwise the HNSW index is searched with an acceptance test and over-fetching. This is
 * the one place that decides exact scan versus graph (thresholds from EngineConfig); the index
 * adapter only executes what it is told (VectorSearchOptions.exactBelowSelectivity).
 */
import type { EngineConfig } from '../engine-config.ts';
import type { CompiledFilter } from '../filter/compile-filter.ts';
import type { MetricType, VectorIndex } from '../ports/vector-index.ts';
import type { Segment } from '../segment/segment.ts';
import type { VectorColumn } from '../segment/vector-column.ts';
import { cachedMatches, computeMatches } from './filter-matches.ts';
import { higherIsBetter, norm, score } from './metric.ts';
import { estimateSelectivity } from './selectivity.ts';
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
  /** Filter, bound to the segment only when its rows must be evaluated (see filter-matches.ts). */
  filter?: CompiledFilter;
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

/**
 * Exact top-k over a vector column: over `candidates` when given, else over every row; either way
 * only rows `accept` allows (when given). Cosine uses the column's cached squared norms, so each
 * row costs one dot product.
 */
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
  const data = column.loadedData();
  const dim = column.dim;
  const n = candidates ? candidates.length : column.length;
  const cosine = metric === 'COSINE';
  const qn = cosine ? norm(query) : 0;
  const norms = cosine ? column.squaredNorms() : null;
  for (let i = 0; i < n; i++) {
    const o = candidates ? candidates[i] : i;
    if (accept && !accept(o)) continue;
    const sc = score(metric, query, data, o * dim, qn, norms === null ? 0 : norms[o]);
    if (!range || range.contains(sc)) heap.push(o, sc);
  }
  return heap.sorted();
}

/**
 * The best `k` live rows of a segment that pass the filter.
 *
 * With a filter: when its matches on this segment are cached, they decide the path at once. When
 * not, and the segment has a graph index, a sample estimates the selectivity first: an unselective
 * filter is evaluated lazily, only on the rows the graph search visits (no full pass, nothing to
 * cache); a selective one is evaluated on every row (and cached, sealed segments only) so that its
 * few matches can be scanned exactly.
 */
export function searchSegment(seg: Segment, p: SegmentSearchParams, config: EngineConfig): Hit[] {
  const n = seg.rowCount;
  if (n === 0 || p.k <= 0) return [];
  const index = seg.indexes.get(p.field);
  const column = seg.vectors(p.field);
  const notDeleted = seg.deletedCount > 0 ? (o: number) => !seg.isDeleted(o) : undefined;
  /** `test`, also refusing deleted rows when there are any. */
  const live = (test: (o: number) => boolean) => (notDeleted ? (o: number) => test(o) && !seg.isDeleted(o) : test);
  const graph = (accept: ((o: number) => boolean) | undefined) =>
    p.range
      ? rangeSearch(index!, p, accept, n, config.exactSearchMaxSelectivity)
      : index!.search(p.query, p.k, { ef: p.ef, accept, exactBelowSelectivity: config.exactSearchMaxSelectivity });
  const exact = (candidates: ArrayLike<number> | undefined, accept: ((o: number) => boolean) | undefined) =>
    exactSearch(p.metric, p.query, column, p.k, candidates, accept, p.range);
  if (!p.filter) return toHits(seg, index ? graph(notDeleted) : exact(undefined, notDeleted));
  const exactLimit = Math.max(config.exactSearchMaxCandidates, Math.floor(n * config.exactSearchMaxSelectivity));
  let matches = cachedMatches(seg, p.filter);
  if (!matches) {
    const pred = p.filter.bind(seg);
    if (index && estimateSelectivity(n, pred, identity) * n > 2 * exactLimit) return toHits(seg, graph(live(pred)));
    matches = computeMatches(seg, p.filter, pred, exactLimit);
  }
  if (matches.count === 0) return [];
  const pass = matches.pass;
  const passing = live((o) => pass[o] === 1);
  if (index && matches.count > exactLimit) return toHits(seg, graph(passing));
  return toHits(seg, matches.list ? exact(matches.list, notDeleted) : exact(undefined, passing));
}

const identity = (o: number) => o;

function toHits(seg: Segment, { keys, scores }: { keys: ArrayLike<number>; scores: ArrayLike<number> }): Hit[] {
  const hits: Hit[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) hits[i] = { segment: seg, offset: keys[i], score: scores[i] };
  return hits;
}

/**
 * Range search on a graph index: widen the beam until k hits fall inside the bounds, the ranked
 * list passes the outer bound, or the whole segment was ranked.
 */
function rangeSearch(
  index: VectorIndex,
  p: SegmentSearchParams,
  accept: ((o: number) => boolean) | undefined,
  n: number,
  exactBelowSelectivity: number,
): { keys: number[]; scores: number[] } {
  for (let count = Math.max(p.k, p.ef ?? 0, 64); ; count *= 4) {
    const res = index.search(p.query, Math.min(count, n), { ef: p.ef, accept, exactBelowSelectivity });
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
