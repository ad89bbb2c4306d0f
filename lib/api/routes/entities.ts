/**
 * `/v2/vectordb/entities/*`: insert, upsert, delete, get, query, search (hybrid search: hybrid-search.ts).
 *
 * Writes answer with the Migrans `sessionToken` extension (see read-options.ts). Search params:
 * `searchParams.params.{ef, radius, range_filter}`; every other `searchParams` key is merged in as
 * Milvus 2.5.2+ does (a key given at both levels with different values is 1100 "ambiguous parameter"),
 * and the legacy top-level `params` (2.4) is read last. `searchParams.metricType` is ignored exactly
 * as Milvus ignores it (issue #37138); `metric_type`, which Milvus does read, must match the index.
 */
import { primaryField } from '../../engine/schema/primary-field.ts';
import { vectorFieldFor } from '../../engine/read/planner.ts';
import type { Row, SearchRequest } from '../../engine/database.ts';
import { invalidParameter } from '../../engine/errors.ts';
import { ErrorCode, MilvusError } from '../error-codes.ts';
import { parseMetricType } from '../parse-collection-request.ts';
import { MAX_TERM_COUNT } from '../../engine/request-limits.ts';
import { showValue } from '../../engine/schema/rows-to-batch.ts';
import type { CollectionSchema, FieldSchema, PrimaryKey } from '../../engine/schema/types.ts';
import { BAD_JSON_PREFIX, isJsonObject, missingRequired, unmarshalError, type JsonObject } from '../bind.ts';
import { readOptions } from '../read-options.ts';
import { success } from '../response.ts';
import { createRowEncoder, encodeRows } from '../row-encoder.ts';
import { hybridSearchRoute } from './hybrid-search.ts';
import type { HandlerContext, RouteTable } from '../types.ts';

/** Milvus `quotaAndLimits.limits.topK` / maxQueryResultWindow. */
export const MAX_RESULT_WINDOW = 16384;
/** Default `limit` of query and search. */
export const DEFAULT_LIMIT = 100;
/** Most query vectors in one search (Milvus nq limit). */
export const MAX_NQ = 16384;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function unexpected(message: string): MilvusError {
  return new MilvusError(ErrorCode.Unexpected, message);
}

function encodeId(id: PrimaryKey, int64AsString: boolean): string {
  if (typeof id === 'bigint') return int64AsString ? `"${id}"` : id.toString();
  return JSON.stringify(id);
}

function encodeIds(ids: readonly PrimaryKey[], int64AsString: boolean): string {
  return `[${ids.map((id) => encodeId(id, int64AsString)).join(',')}]`;
}

async function write(ctx: HandlerContext, upsert: boolean): Promise<string> {
  const { db, dbName, req, body } = ctx;
  const name = req.string('collectionName', true);
  const partitionName = req.string('partitionName') || undefined;
  const data = body.data; // read case-sensitively from the raw body, as Milvus (gjson)
  if (data === undefined || data === null) throw missingRequired('CollectionDataReq', 'data');
  if (!Array.isArray(data)) throw unmarshalError('CollectionDataReq', 'data', data, '[]map[string]interface {}');
  const pending = db.insert(dbName, name, data, { partitionName, upsert });
  // The engine converts the rows before its first await; dropping the parsed JSON now lets it die
  // young instead of surviving the WAL fsync into the old generation (GC was 9 % of REST ingest).
  body.data = undefined;
  const result = await pending;
  const word = upsert ? 'upsert' : 'insert';
  return success({
    cost: true,
    data: `{"${word}Count":${result.ids.length},"${word}Ids":${encodeIds(result.ids, ctx.int64AsString)}}`,
    sessionToken: result.sessionToken,
  });
}

/** 1806 with Milvus's text plus what was wrong. */
function badPrimaryKey(detail: string): MilvusError {
  return new MilvusError(ErrorCode.BadPrimaryKey, `please check the primary key and its' type can only in [int, string], error: ${detail}`);
}

/** Converts `id` (scalar or array) to keys of the pk type: Int64 from integers or decimal strings, VarChar from strings or numbers. */
function parseIds(raw: unknown, pk: FieldSchema): PrimaryKey[] {
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length > MAX_TERM_COUNT) {
    throw invalidParameter(`get asks for ${items.length} ids; the limit is ${MAX_TERM_COUNT} per request: split the ids into several requests`);
  }
  return items.map((v) => {
    if (pk.dataType === 'Int64') {
      let b: bigint | undefined;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
      else if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) b = BigInt(v);
      if (b === undefined || b < INT64_MIN || b > INT64_MAX) {
        throw badPrimaryKey(`id ${showValue(v)} is not a valid Int64 key of field ${pk.name}`);
      }
      return b;
    }
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    throw badPrimaryKey(`id ${showValue(v)} is not a valid VarChar key of field ${pk.name}`);
  });
}

function rowsResponse(rows: readonly Row[], schema: CollectionSchema, int64AsString: boolean): string {
  return success({ cost: true, data: encodeRows(rows, createRowEncoder(schema, int64AsString)) });
}

/** Number from a search param given as a number or numeric string; 1100 otherwise. */
function numericParam(key: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw invalidParameter(`search param ${key} should be a number, but got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/** Flattens `searchParams` (+ its `params`) and the legacy top-level `params` into one map. */
function mergeSearchParams(searchParams: JsonObject | undefined, legacy: JsonObject | undefined): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const inner = searchParams?.params;
  if (inner !== undefined && inner !== null && !isJsonObject(inner)) {
    throw invalidParameter(`searchParams.params should be an object, but got ${JSON.stringify(inner)}`);
  }
  for (const [k, v] of Object.entries(inner ?? {})) if (v !== null && v !== undefined) merged[k] = v;
  for (const [k, v] of Object.entries(searchParams ?? {})) {
    if (k === 'params' || v === null || v === undefined) continue;
    if (k in merged && String(merged[k]) !== String(v)) {
      throw invalidParameter(`ambiguous parameter: key ${k} is set in searchParams (${String(v)}) and in searchParams.params (${String(merged[k])})`);
    }
    merged[k] = v;
  }
  for (const [k, v] of Object.entries(legacy ?? {})) if (!(k in merged) && v !== null && v !== undefined) merged[k] = v;
  return merged;
}

function parseVectors(data: unknown[]): Float32Array[] {
  if (data.length === 0 || data.length > MAX_NQ) {
    throw invalidParameter(`nq [${data.length}] is invalid, nq (number of search vector per search request) should be in range [1, ${MAX_NQ}]`);
  }
  return data.map((vec, q) => {
    const shown = (): string => {
      const s = JSON.stringify(vec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(vec);
      return s.length > 100 ? `${s.slice(0, 100)}…` : s;
    };
    if (!Array.isArray(vec)) {
      throw new MilvusError(
        ErrorCode.BadJson,
        `${BAD_JSON_PREFIX}, error: query vector ${q} is not an array of numbers: invalid parameter[expected=FloatVector][actual=${shown()}]`,
      );
    }
    // The dimension is checked by the engine's planner, for every front door.
    const out = new Float32Array(vec.length);
    for (let j = 0; j < vec.length; j++) {
      const x = vec[j];
      const f = typeof x === 'number' ? Math.fround(x) : NaN;
      if (f - f !== 0) {
        throw new MilvusError(
          ErrorCode.BadJson,
          `${BAD_JSON_PREFIX}, error: element ${j} of query vector ${q} is not a finite float32 number: invalid parameter[expected=FloatVector][actual=${shown()}]`,
        );
      }
      out[j] = f;
    }
    return out;
  });
}

/** Entity routes. */
export const entityRoutes: RouteTable = {
  'entities/insert': { structName: 'CollectionDataReq', handle: (ctx) => write(ctx, false) },
  'entities/upsert': { structName: 'CollectionDataReq', handle: (ctx) => write(ctx, true) },
  'entities/delete': {
    structName: 'CollectionFilterReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const filter = req.string('filter', true);
      const partitionName = req.string('partitionName') || undefined;
      const exprParams = req.map('exprParams');
      const { deleteCount, sessionToken } = await db.delete(dbName, name, filter, { partitionName, exprParams });
      return success({ data: `{"deleteCount":${deleteCount}}`, sessionToken });
    },
  },
  'entities/get': {
    structName: 'CollectionIDReq',
    async handle({ db, dbName, req, body, int64AsString }) {
      const name = req.string('collectionName', true);
      const raw = body.id; // case-sensitive, as Milvus reads it with gjson
      if (raw === undefined || raw === null) throw missingRequired('CollectionIDReq', 'id');
      const options = readOptions(req, ['*']);
      const info = await db.describeCollection(dbName, name);
      const ids = parseIds(raw, primaryField(info.schema));
      const rows = await db.get(dbName, name, ids, options);
      return rowsResponse(rows, info.schema, int64AsString);
    },
  },
  'entities/query': {
    structName: 'QueryReqV2',
    async handle({ db, dbName, req, int64AsString }) {
      const name = req.string('collectionName', true);
      const filter = req.string('filter') ?? '';
      const limit = req.int32('limit') ?? DEFAULT_LIMIT;
      const offset = req.int32('offset') ?? 0;
      const options = readOptions(req, ['*']);
      const exprParams = req.map('exprParams');
      const outputs = options.outputFields!;
      const isCount = outputs.length === 1 && outputs[0]!.toLowerCase() === 'count(*)';
      if (isCount) {
        options.outputFields = ['count(*)'];
      } else {
        if (offset < 0) throw unexpected(`invalid max query result window, offset [${offset}] is invalid, should be gte than 0`);
        if (limit < 0) throw unexpected(`invalid max query result window, limit [${limit}] is invalid, should be greater than 0`);
        if (filter === '' && limit === 0) throw invalidParameter('empty expression should be used with limit');
        if (limit > 0 && limit + offset > MAX_RESULT_WINDOW) {
          throw unexpected(`invalid max query result window, (offset+limit) should be in range [1, ${MAX_RESULT_WINDOW}], but got ${limit + offset}`);
        }
      }
      const info = await db.describeCollection(dbName, name);
      // Milvus sends limit only when > 0 and not counting; limit 0 with a filter means "all matches".
      const rows = await db.query(dbName, name, {
        ...options,
        filter,
        exprParams,
        limit: isCount || limit === 0 ? undefined : limit,
        offset: isCount || limit === 0 ? undefined : offset,
      });
      return rowsResponse(rows, info.schema, int64AsString);
    },
  },
  'entities/hybrid_search': hybridSearchRoute,
  'entities/advanced_search': hybridSearchRoute,
  'entities/search': {
    structName: 'SearchReqV2',
    async handle({ db, dbName, req, body, int64AsString }) {
      const name = req.string('collectionName', true);
      const data = body.data;
      if (data === undefined || data === null) throw missingRequired('SearchReqV2', 'data');
      if (!Array.isArray(data)) throw unmarshalError('SearchReqV2', 'data', data, '[]interface {}');
      const limit = req.int32('limit') ?? DEFAULT_LIMIT;
      const offset = req.int32('offset') ?? 0;
      if (limit <= 0 || limit > MAX_RESULT_WINDOW) {
        throw unexpected(`topk [${limit}] is invalid, it should be in range [1, ${MAX_RESULT_WINDOW}]`);
      }
      if (offset < 0 || limit + offset > MAX_RESULT_WINDOW) {
        throw unexpected(`offset [${offset}] is invalid, (offset+limit) should be in range [1, ${MAX_RESULT_WINDOW}], but got ${limit + offset}`);
      }
      const grouping = req.string('groupingField');
      if (grouping) throw invalidParameter('groupingField (grouping search) is not supported by Migrans yet; remove it');
      const filter = req.string('filter') ?? '';
      const exprParams = req.map('exprParams');
      const options = readOptions(req, []);
      const params = mergeSearchParams(req.map('searchParams'), req.map('params'));

      const info = await db.describeCollection(dbName, name);
      const field = vectorFieldFor(info.schema, req.string('annsField'));
      const request: SearchRequest = {
        ...options,
        vectors: parseVectors(data),
        annsField: field.name,
        limit,
        offset,
        filter,
        exprParams,
      };
      if (params.ef !== undefined) {
        const ef = numericParam('ef', params.ef);
        if (!Number.isInteger(ef) || ef < 1 || ef > 32768) throw invalidParameter(`search param ef should be an integer in [1, 32768], but got ${String(params.ef)}`);
        request.ef = ef;
      }
      if (params.radius !== undefined) request.radius = numericParam('radius', params.radius);
      if (params.range_filter !== undefined) request.rangeFilter = numericParam('range_filter', params.range_filter);
      if (params.metric_type !== undefined) request.metricType = parseMetricType(String(params.metric_type));

      const results = await db.search(dbName, name, request);
      const pkName = primaryField(info.schema).name;
      const encode = createRowEncoder(info.schema, int64AsString, [pkName, 'distance']);
      // Milvus omits topks when nothing matched, which makes the Node SDK throw; we always send it.
      const topks = results.map((hits) => hits.length);
      const parts: string[] = [];
      for (const hits of results) for (const hit of hits) parts.push(encode(hit));
      return success({ cost: true, data: `[${parts.join(',')}]`, topks });
    },
  },
};
