/**
 * The read planner: validates a search, query or get against a collection once and turns it into a
 * plan the read path executes — the searched vector field (annsField), the query vectors'
 * dimension, the metric against the index's, paging, output fields, count(*), the compiled filter.
 * Every front door (REST routes, the library API, the distributed read) goes through it, so each
 * rule lives here and nowhere else. Messages are Milvus's, whose REST server prefixes request-shape
 * errors with the JSON-binding text.
 */
import { RequestFormatError, invalidParameter } from '../errors.ts';
import { compileFilter, type CompiledFilter } from '../filter/compile-filter.ts';
import type { QueryRequest, ReadOptions, SearchRequest } from '../database.ts';
import type { SearchPlan } from '../read-path.ts';
import type { CollectionInfo, CollectionSchema, FieldSchema } from '../schema/types.ts';
import type { SegmentScope } from '../segment-scope.ts';

/** Milvus's prefix of a request that does not fit the collection (it reports them as JSON binding errors, code 1801). */
export const REQUEST_SHAPE_PREFIX = 'can only accept json format request, error:';

/** The searched vector field: the one `annsField` names, or the only one; `where` names the sub-search of a hybrid search. */
export function vectorFieldFor(schema: CollectionSchema, annsField: string | undefined, where = ''): FieldSchema {
  const vectors = schema.fields.filter((f) => f.dataType === 'FloatVector');
  if (annsField) {
    const f = vectors.find((v) => v.name === annsField);
    if (!f) throw new RequestFormatError(`${REQUEST_SHAPE_PREFIX} ${where}cannot find a vector field named: ${annsField}`);
    return f;
  }
  if (vectors.length > 1) {
    throw new RequestFormatError(
      `${REQUEST_SHAPE_PREFIX} ${where}search without annsField, but already found multiple vector fields: [${vectors.map((v) => v.name).join(', ')}]; set annsField`,
    );
  }
  if (vectors.length === 0) throw new RequestFormatError(`${REQUEST_SHAPE_PREFIX} ${where}the collection has no vector field to search`);
  return vectors[0];
}

/** The partitions a read names, or undefined for every partition. */
export function readPartitions(options: ReadOptions): string[] | undefined {
  return options.partitionNames && options.partitionNames.length > 0 ? options.partitionNames : undefined;
}

/** Whether an output field list is Milvus's `count(*)`. */
function isCount(name: string): boolean {
  return name.replace(/\s/g, '').toLowerCase() === 'count(*)';
}

/** A planned search: what the read path runs for each query vector, and the output fields to materialize. */
export interface PlannedSearch {
  plan: SearchPlan;
  outputFields: string[];
}

/** Plans a search: field, metric, dimension of every query vector, paging, filter; `defaultEf` is the engine's configured beam width. */
export function planSearch(info: CollectionInfo, request: SearchRequest, defaultEf: number): PlannedSearch {
  const field = vectorFieldFor(info.schema, request.annsField);
  const spec = info.indexes.find((i) => i.fieldName === field.name);
  if (request.metricType && spec && request.metricType !== spec.metricType) {
    throw invalidParameter(`metric type not match: the index of ${field.name} uses ${spec.metricType}, the search asked for ${request.metricType}`);
  }
  for (const [q, v] of request.vectors.entries()) {
    if (v.length !== field.dim)
      throw new RequestFormatError(`${REQUEST_SHAPE_PREFIX} dimension: ${field.dim}, but length of []float: ${v.length} (query vector ${q}, field ${field.name})`);
  }
  const plan: SearchPlan = {
    field,
    metric: spec?.metricType ?? request.metricType ?? 'COSINE',
    limit: request.limit,
    offset: request.offset ?? 0,
    ef: request.ef ?? defaultEf,
    radius: request.radius,
    rangeFilter: request.rangeFilter,
    filter: request.filter && request.filter.trim() !== '' ? compileFilter(request.filter, info.schema, request.exprParams) : undefined,
    partitions: readPartitions(request),
    scope: request.scope,
  };
  return { plan, outputFields: request.outputFields ?? [] };
}

/** A planned query: a count, or the rows matching a filter in primary-key order with paging. */
export interface PlannedQuery {
  filter: CompiledFilter;
  /** `count(*)` asked for: the answer is one row with the count. */
  count: boolean;
  outputFields: string[];
  /** -1: every match. */
  limit: number;
  offset: number;
  partitions?: string[];
  scope?: SegmentScope;
}

/** Plans a query; `count(*)` cannot be combined with other output fields. */
export function planQuery(info: CollectionInfo, request: QueryRequest): PlannedQuery {
  const outputFields = request.outputFields ?? ['*'];
  const count = outputFields.length === 1 && isCount(outputFields[0]);
  if (!count && outputFields.some(isCount)) throw invalidParameter('count(*) cannot be combined with other output fields');
  return {
    filter: compileFilter(request.filter ?? '', info.schema, request.exprParams),
    count,
    outputFields,
    limit: request.limit ?? -1,
    offset: request.offset ?? 0,
    partitions: readPartitions(request),
    scope: request.scope,
  };
}

/** The output fields of a get (default: every field). */
export function planGet(outputFields: string[] | undefined): string[] {
  return outputFields ?? ['*'];
}
