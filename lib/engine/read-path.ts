/**
 * The querynode's read operations over a collection's segments: query (filter scan, results in
 * primary-key order as Milvus returns them), get (PK index), search (per-segment top-k, global
 * reduce) and late materialization of output fields for the final rows only.
 */
import type { CollectionState } from './collection/collection-state.ts';
import type { Row } from './database.ts';
import type { EngineConfig } from './engine-config.ts';
import { invalidParameter } from './errors.ts';
import type { CompiledFilter } from './filter/compile-filter.ts';
import type { MetricType } from './ports/vector-index.ts';
import type { FieldSchema, PrimaryKey, Value } from './schema/types.ts';
import { reduceHits, searchSegment, type Hit, type ScoreRange } from './search/segment-search.ts';
import type { Segment } from './segment/segment.ts';
import { comparePrimaryKeys, type SegmentScope } from './segment-scope.ts';

/** A resolved output-field list. */
export interface OutputPlan {
  fields: FieldSchema[];
  /** Dynamic keys requested by name. */
  dynamicKeys: string[];
  /** Flatten the whole `$meta` object into rows (`*`). */
  allDynamic: boolean;
}

/** Resolves output field names (`*` = everything) against the schema. */
export function planOutput(rt: CollectionState, names: string[] | undefined): OutputPlan {
  const schema = rt.info.schema;
  const plan: OutputPlan = { fields: [], dynamicKeys: [], allDynamic: false };
  const chosen = new Set<FieldSchema>();
  for (const raw of names ?? []) {
    const name = raw.trim();
    if (name === '*') {
      for (const f of schema.fields) chosen.add(f);
      plan.allDynamic = schema.enableDynamicField;
      continue;
    }
    const field = schema.fields.find((f) => f.name === name);
    if (field) chosen.add(field);
    else if (name === '$meta' && schema.enableDynamicField) plan.allDynamic = true;
    else if (schema.enableDynamicField) plan.dynamicKeys.push(name);
    else throw invalidParameter(`field ${name} not exist in collection ${rt.info.name}; output fields must be schema fields or '*'`);
  }
  plan.fields = schema.fields.filter((f) => chosen.has(f) && !f.isPrimary);
  return plan;
}

/** Builds the output row of one stored row. */
export function materialize(rt: CollectionState, seg: Segment, offset: number, plan: OutputPlan, extra?: Record<string, Value>): Row {
  const pkName = rt.pkField().name;
  const row: Row = { [pkName]: seg.pks[offset] };
  if (extra) Object.assign(row, extra);
  for (const f of plan.fields) {
    const v = f.dataType === 'FloatVector' ? seg.vectors(f.name).get(offset).slice() : seg.scalar(f.name)!.get(offset);
    row[f.name] = v;
  }
  if (plan.allDynamic || plan.dynamicKeys.length > 0) {
    const meta = seg.dynamicColumn()?.[offset];
    if (meta) {
      if (plan.allDynamic) {
        for (const [k, v] of Object.entries(meta)) if (!(k in row)) row[k] = v as Value;
      } else {
        for (const k of plan.dynamicKeys) if (k in meta) row[k] = meta[k] as Value;
      }
    }
  }
  return row;
}

/** One stored row: a segment and an offset in it. */
export interface RowRef {
  segment: Segment;
  offset: number;
}

/** Orders rows by primary key. */
function byPrimaryKey(a: RowRef, b: RowRef): number {
  return comparePrimaryKeys(a.segment.pks[a.offset], b.segment.pks[b.offset]);
}

/**
 * Rows matching a filter in primary-key order (as Milvus returns query results), after skipping
 * `offset`; `limit` < 0 means all. A page costs one scan and a bounded selection of the smallest
 * `offset + limit` keys, not a sort of every match: an export loop (`id > last`, limit N) stays
 * linear in the collection per page.
 */
export async function queryRows(
  rt: CollectionState,
  filter: CompiledFilter,
  options: { limit: number; offset: number; partitions?: string[]; scope?: SegmentScope; /** any order will do (a delete by filter) */ unordered?: boolean },
): Promise<RowRef[]> {
  const end = options.limit < 0 ? Infinity : options.offset + options.limit;
  if (filter.primaryKeys) {
    // Plain key equalities go through the PK index instead of scanning every segment.
    const rows = await getRows(rt, filter.primaryKeys, options.partitions, options.scope);
    return rows.sort(byPrimaryKey).slice(options.offset, end);
  }
  if (end <= options.offset) return [];
  const segments = rt.readableSegments(options.partitions, options.scope);
  if (end === Infinity) {
    const rows = matchingRows(segments, filter);
    return options.unordered && options.offset === 0 ? rows : rows.sort(byPrimaryKey).slice(options.offset);
  }
  return smallestKeys(segments, filter, end).slice(options.offset);
}

/** Every live row of `segments` that passes `filter`, in segment order. */
function matchingRows(segments: Segment[], filter: CompiledFilter): RowRef[] {
  const out: RowRef[] = [];
  for (const seg of segments) {
    const pass = filter.bind(seg);
    for (let o = 0; o < seg.rowCount; o++) if (!seg.isDeleted(o) && pass(o)) out.push({ segment: seg, offset: o });
  }
  return out;
}

/**
 * The `k` live matching rows with the smallest primary keys, ascending: a max-heap of the best
 * `k` so far (a key is live in one segment only, so no key repeats). A row whose key cannot enter
 * the full heap is skipped before its filter is evaluated.
 */
function smallestKeys(segments: Segment[], filter: CompiledFilter, k: number): RowRef[] {
  const heap: { pk: PrimaryKey; row: RowRef }[] = [];
  const above = (i: number, j: number) => comparePrimaryKeys(heap[i].pk, heap[j].pk) > 0;
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j], heap[i]]);
  for (const seg of segments) {
    const pass = filter.bind(seg);
    const pks = seg.pks;
    for (let o = 0; o < seg.rowCount; o++) {
      const pk = pks[o];
      const full = heap.length >= k;
      if ((full && comparePrimaryKeys(pk, heap[0].pk) >= 0) || seg.isDeleted(o) || !pass(o)) continue;
      const item = { pk, row: { segment: seg, offset: o } };
      if (!full) {
        // Sift up.
        heap.push(item);
        for (let i = heap.length - 1; i > 0 && above(i, (i - 1) >> 1); i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
        continue;
      }
      // Replace the largest and sift down.
      heap[0] = item;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let top = i;
        if (l < heap.length && above(l, top)) top = l;
        if (r < heap.length && above(r, top)) top = r;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  return heap.sort((a, b) => comparePrimaryKeys(a.pk, b.pk)).map((h) => h.row);
}

/** Counts live rows matching a filter. */
export async function countRows(rt: CollectionState, filter: CompiledFilter | undefined, partitions?: string[], scope?: SegmentScope): Promise<number> {
  if (!filter || filter.expression.trim() === '') return rt.rowCount(partitions, scope);
  if (filter.primaryKeys) return (await getRows(rt, filter.primaryKeys, partitions, scope)).length;
  let n = 0;
  for (const seg of rt.readableSegments(partitions, scope)) {
    const pass = filter.bind(seg);
    for (let o = 0; o < seg.rowCount; o++) if (!seg.isDeleted(o) && pass(o)) n++;
  }
  return n;
}

/** Live rows of the given keys through the PK index (no scan), of the segments in `scope` when given. */
export async function getRows(rt: CollectionState, pks: PrimaryKey[], partitions?: string[], scope?: SegmentScope): Promise<RowRef[]> {
  return rt.lock.read(async () => {
    const entries = await rt.pk.lookup(pks);
    const out: RowRef[] = [];
    const seen = new Set<PrimaryKey>();
    for (let i = 0; i < pks.length; i++) {
      const e = entries[i];
      if (!e || e.deleted || !e.location || seen.has(pks[i])) continue;
      const seg = rt.segments.get(e.location.segmentId);
      if (!seg || e.location.offset >= seg.rowCount || seg.isDeleted(e.location.offset)) continue;
      if (!(partitions ?? rt.info.partitions).includes(seg.meta.partition)) continue;
      if (scope && !scope(seg.meta)) continue;
      seen.add(pks[i]);
      out.push({ segment: seg, offset: e.location.offset });
    }
    return out;
  });
}

/** Search parameters after validation. */
export interface SearchPlan {
  field: FieldSchema;
  metric: MetricType;
  limit: number;
  offset: number;
  ef?: number;
  radius?: number;
  rangeFilter?: number;
  filter?: CompiledFilter;
  partitions?: string[];
  /** Search only these segments (a querynode's share of a fanned-out search). */
  scope?: SegmentScope;
}

/** Milvus range-search bounds: L2 keeps range_filter <= d < radius; IP/COSINE keep radius < s <= range_filter. */
function scoreRange(metric: MetricType, radius: number | undefined, rangeFilter: number | undefined): ScoreRange | undefined {
  if (radius === undefined && rangeFilter === undefined) return undefined;
  if (metric === 'L2') {
    return {
      contains: (s) => (radius === undefined || s < radius) && (rangeFilter === undefined || s >= rangeFilter),
      beyond: (s) => radius !== undefined && s >= radius,
    };
  }
  return {
    contains: (s) => (radius === undefined || s > radius) && (rangeFilter === undefined || s <= rangeFilter),
    beyond: (s) => radius !== undefined && s <= radius,
  };
}

/** Top hits of one query vector across all segments. */
export function searchVector(rt: CollectionState, query: Float32Array, plan: SearchPlan, config: EngineConfig): Hit[] {
  const range = scoreRange(plan.metric, plan.radius, plan.rangeFilter);
  const k = plan.limit + plan.offset;
  const lists: Hit[][] = [];
  for (const seg of rt.readableSegments(plan.partitions, plan.scope)) {
    lists.push(searchSegment(seg, { field: plan.field.name, metric: plan.metric, query, k, ef: plan.ef, filter: plan.filter, range }, config));
  }
  return reduceHits(lists, plan.metric).slice(plan.offset, plan.offset + plan.limit);
}
