/**
 * The read planner: validates and plans a search, query or get once against a collection's
 * CollectionInfo, for every front door (REST, the embedded API, a distributed read on the proxy).
 * The rules live here only: which vector field a search uses, the query-vector dimension, the
 * metric against the index's, paging, output fields, count(*), the filter compile.
 */
import type { QueryRequest, SearchRequest } from '../database.ts';
import { RequestFormatError, invalidParameter } from '../errors.ts';
import { compileFilter, type CompiledFilter } from '../filter/compile-filter.ts';
import type { MetricType } from '../ports/vector-index.ts';
import type { CollectionInfo, CollectionSchema, FieldSchema } from '../schema/types.ts';

/** The searched vector field: the named one, or the only one (RequestFormatError otherwise). */
export function resolveAnnsField(schema: CollectionSchema, annsField: string | undefined): FieldSchema {
  const vectors = schema.fields.filter((f) => f.dataType === 'FloatVector');
  if (annsField) {
    const named = vectors.find((f) => f.name === annsField);
    if (!named) throw new RequestFormatError(`cannot find a vector field named: ${annsField}`);
    return named;
  }
  if (vectors.length > 1)
    throw new RequestFormatError(`search without annsField, but already found multiple vector fields: [${vectors.map((f) => f.name).join(', ')}]; set annsField`);
  return vectors[0]!;
}

/** Refuses a query vector whose length is not the field's dimension. */
export function checkQueryVector(field: FieldSchema, length: number, index: number): void {
  if (length !== field.dim)
    throw new RequestFormatError(`can only accept json format request, error: dimension: ${field.dim}, but length of []float: ${length} (query vector ${index})`);
}

/** A planned search: everything a shard needs to search its segments, validated. */
export interface PlannedSearch {
  field: FieldSchema;
  metric: MetricType;
  limit: number;
  offset: number;
  ef: number;
  radius?: number;
  rangeFilter?: number;
  filter?: CompiledFilter;
  /** Output field names as asked (resolved per shard against the same schema). */
  outputFields: string[];
}

/** Plans a search; `defaultEf` is the engine's configured beam width. */
export function planSearch(info: CollectionInfo, request: SearchRequest, defaultEf: number): PlannedSearch {
  const field = resolveAnnsField(info.schema, request.annsField);
  const spec = info.indexes.find((i) => i.fieldName === field.name);
  const metric = spec?.metricType ?? request.metricType ?? 'COSINE';
  if (request.metricType && spec && request.metricType !== spec.metricType) {
    throw invalidParameter(`metric type not match: the index of ${field.name} uses ${spec.metricType}, the search asked for ${request.metricType}`);
  }
  for (const [i, v] of request.vectors.entries()) checkQueryVector(field, v.length, i);
  return {
    field,
    metric,
    limit: request.limit,
    offset: request.offset ?? 0,
    ef: request.ef ?? defaultEf,
    radius: request.radius,
    rangeFilter: request.rangeFilter,
    filter: request.filter && request.filter.trim() !== '' ? compileFilter(request.filter, info.schema, request.exprParams) : undefined,
    outputFields: request.outputFields ?? [],
  };
}

/** A planned query: a count, or a page of rows in primary-key order. */
export type PlannedQuery =
  { kind: 'count'; filter: CompiledFilter } | { kind: 'rows'; filter: CompiledFilter; /** < 0: every match */ limit: number; offset: number; outputFields: string[] };

/** Whether an output-field name is count(*) (any spacing or case). */
function isCount(name: string): boolean {
  return name.replace(/\s/g, '').toLowerCase() === 'count(*)';
}

/** Plans a query. */
export function planQuery(info: CollectionInfo, request: QueryRequest): PlannedQuery {
  const filter = compileFilter(request.filter ?? '', info.schema, request.exprParams);
  const outputs = request.outputFields ?? ['*'];
  if (outputs.length === 1 && isCount(outputs[0])) return { kind: 'count', filter };
  if (outputs.some(isCount)) throw invalidParameter('count(*) cannot be combined with other output fields');
  return { kind: 'rows', filter, limit: request.limit ?? -1, offset: request.offset ?? 0, outputFields: outputs };
}

/** The output fields of a get (default: every field). */
export function planGet(outputFields: string[] | undefined): string[] {
  return outputFields ?? ['*'];
}
