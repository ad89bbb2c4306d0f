/**
 * The querynode's read operations over a collection's segments: query (filter scan), get (PK index),
 * search (per-segment top-k, global reduce) and late materialization of output fields for the
 * final rows only.
 */
import type { CollectionRuntime } from './collection-runtime.ts';
import type { Row } from './database.ts';
import type { EngineConfig } from './engine-config.ts';
import { invalidParameter } from './errors.ts';
import type { CompiledFilter } from './filter/compile-filter.ts';
import type { MetricType } from './ports/vector-index.ts';
import type { FieldSchema, PrimaryKey, Value } from './schema/types.ts';
import { reduceHits, searchSegment, type Hit, type ScoreRange } from './search/segment-search.ts';
import type { Segment } from './segment/segment.ts';
import type { SegmentScope } from './segment-scope.ts';

/** A resolved output-field list. */
export interface OutputPlan {
  fields: FieldSchema[];
  /** Dynamic keys requested by name. */
  dynamicKeys: string[];
  /** Flatten the whole `$meta` object into rows (`*`). */
  allDynamic: boolean;
}

/** Resolves output field names (`*` = everything) against the schema. */
export function planOutput(rt: CollectionRuntime, names: string[] | undefined): OutputPlan {
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
export function materialize(rt: CollectionRuntime, seg: Segment, offset: number, plan: OutputPlan, extra?: Record<string, Value>): Row {
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

/** Rows matching a filter, in segment order, after skipping `offset`; `limit` < 0 means all. */
export async function queryRows(
  rt: CollectionRuntime,
  filter: CompiledFilter,
  options: { limit: number; offset: number; partitions?: string[]; scope?: SegmentScope },
): Promise<{ segment: Segment; offset: number }[]> {
  const want = options.limit < 0 ? Infinity : options.limit;
  if (filter.primaryKeys) {
    // Plain key equalities go through the PK index instead of scanning every segment.
    const rows = await getRows(rt, filter.primaryKeys, options.partitions, options.scope);
    rows.sort((a, b) => a.segment.id - b.segment.id || a.offset - b.offset);
    return rows.slice(options.offset, options.offset + want);
  }
  const out: { segment: Segment; offset: number }[] = [];
  let skip = options.offset;
  for (const seg of rt.readableSegments(options.partitions, options.scope)) {
    const pass = filter.bind(seg);
    const n = seg.rowCount;
    for (let o = 0; o < n && out.length < want; o++) {
      if (seg.isDeleted(o) || !pass(o)) continue;
      if (skip > 0) skip--;
      else out.push({ segment: seg, offset: o });
    }
    if (out.length >= want) break;
  }
  return out;
}

/** Counts live rows matching a filter. */
export async function countRows(rt: CollectionRuntime, filter: CompiledFilter | undefined, partitions?: string[], scope?: SegmentScope): Promise<number> {
  if (!filter || filter.expression.trim() === '') return rt.rowCount(partitions, scope);
  return (await queryRows(rt, filter, { limit: -1, offset: 0, partitions, scope })).length;
}

/** Live rows of the given keys through the PK index (no scan), of the segments in `scope` when given. */
export async function getRows(rt: CollectionRuntime, pks: PrimaryKey[], partitions?: string[], scope?: SegmentScope): Promise<{ segment: Segment; offset: number }[]> {
  return rt.lock.read(async () => {
    const entries = await rt.pk.lookup(pks);
    const out: { segment: Segment; offset: number }[] = [];
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
export function searchVector(rt: CollectionRuntime, query: Float32Array, plan: SearchPlan, config: EngineConfig): Hit[] {
  const range = scoreRange(plan.metric, plan.radius, plan.rangeFilter);
  const k = plan.limit + plan.offset;
  const lists: Hit[][] = [];
  for (const seg of rt.readableSegments(plan.partitions, plan.scope)) {
    lists.push(searchSegment(seg, { field: plan.field.name, metric: plan.metric, query, k, ef: plan.ef, filter: plan.filter, range }, config));
  }
  return reduceHits(lists, plan.metric).slice(plan.offset, plan.offset + plan.limit);
}
