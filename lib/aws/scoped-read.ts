/**
 * How the proxy fans one read out to the querynodes of a view: what body each node gets and how
 * their answers are reduced (reduce-results.ts). Only get, query and search are fanned out; a read
 * this module does not plan (hybrid and grouping searches, reads with invalid paging, collections
 * the proxy's catalog does not know yet) goes unscoped to one querynode, which holds every segment
 * and so answers it — or reports the error — exactly.
 */
import { vectorFieldFor } from '../engine/read/planner.ts';
import { StructReader, isJsonObject, type JsonObject } from '../api/bind.ts';
import { parseJsonBody } from '../api/json-parse.ts';
import { writeJson } from '../api/json-writer.ts';
import { API_PREFIX } from '../api/router.ts';
import { DEFAULT_LIMIT, MAX_RESULT_WINDOW } from '../api/routes/entities.ts';
import type { CollectionInfo } from '../engine/schema/types.ts';
import { reduceCount, reduceGet, reduceQuery, reduceSearch, type PrimaryKeyInfo } from './reduce-results.ts';

/** Routes the proxy fans out to every querynode of a view. */
export const FANNED_OUT = new Set(['entities/get', 'entities/query', 'entities/search'].map((r) => API_PREFIX + r));

/** One fanned-out read: the body every node gets and the reduce of their successful answers. */
export interface ScopedRead {
  nodeBody: string;
  reduce(bodies: readonly string[]): string;
}

/**
 * The request body as a JSON object, when it is one; undefined for anything else (bad JSON, too
 * deep), which the querynode then refuses with the router's error. Depth-checked and sliced like
 * the router's parse, so a pathological body does not stall the proxy.
 */
export async function parseBodyObject(body: string | Buffer): Promise<JsonObject | undefined> {
  try {
    const parsed = await parseJsonBody(body);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `body` with its paging members (any letter case, as the router binds them) set to offset 0 and `limit`. */
function withPaging(body: JsonObject, limit: number): string {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() !== 'limit' && k.toLowerCase() !== 'offset') out[k] = v;
  out.limit = limit;
  out.offset = 0;
  return writeJson(out);
}

/** Offset and limit as the route reads them, when they are valid integers (else the node reports the error). */
function paging(req: StructReader): { offset: number; limit: number } | undefined {
  try {
    return { offset: req.int32('offset') ?? 0, limit: req.int32('limit') ?? DEFAULT_LIMIT };
  } catch {
    return undefined;
  }
}

function primaryKeyOf(info: CollectionInfo): PrimaryKeyInfo {
  const pk = info.schema.fields.find((f) => f.isPrimary)!;
  return { name: pk.name, int64: pk.dataType === 'Int64' };
}

function planSearch(body: JsonObject, info: CollectionInfo): ScopedRead | undefined {
  const req = StructReader.of(body, 'SearchReqV2');
  if (req.has('groupingField')) return undefined;
  const page = paging(req);
  if (!page || page.limit <= 0 || page.offset < 0 || page.offset + page.limit > MAX_RESULT_WINDOW) return undefined;
  let annsField: string | undefined;
  try {
    annsField = req.string('annsField');
  } catch {
    return undefined;
  }
  let field;
  try {
    field = vectorFieldFor(info.schema, annsField);
  } catch {
    return undefined; // one node reports the error exactly
  }
  // The metric decides the merge direction; without an index the engine's default could differ.
  const metric = field && info.indexes.find((s) => s.fieldName === field.name)?.metricType;
  if (!metric) return undefined;
  const pk = primaryKeyOf(info);
  return {
    nodeBody: withPaging(body, page.offset + page.limit),
    reduce: (bodies) => reduceSearch(bodies, { pk, metric, offset: page.offset, limit: page.limit }),
  };
}

function planQuery(body: JsonObject, info: CollectionInfo, raw: string): ScopedRead | undefined {
  const req = StructReader.of(body, 'QueryReqV2');
  let outputs: string[];
  try {
    outputs = req.stringArray('outputFields') ?? ['*'];
  } catch {
    return undefined;
  }
  if (outputs.length === 1 && outputs[0].toLowerCase() === 'count(*)') return { nodeBody: raw, reduce: reduceCount };
  const page = paging(req);
  if (!page || page.offset < 0 || page.limit < 0 || page.offset + page.limit > MAX_RESULT_WINDOW) return undefined;
  const pk = primaryKeyOf(info);
  // limit 0 asks for every match (the route then ignores offset).
  if (page.limit === 0) return { nodeBody: raw, reduce: (bodies) => reduceQuery(bodies, { pk, offset: 0, limit: undefined }) };
  return {
    nodeBody: withPaging(body, page.offset + page.limit),
    reduce: (bodies) => reduceQuery(bodies, { pk, offset: page.offset, limit: page.limit }),
  };
}

function planGet(body: JsonObject, info: CollectionInfo, raw: string): ScopedRead | undefined {
  const id = body.id; // case-sensitive, as the route reads it
  if (id === undefined || id === null) return undefined;
  const ids = Array.isArray(id) ? id : [id];
  const pk = primaryKeyOf(info);
  return { nodeBody: raw, reduce: (bodies) => reduceGet(bodies, { pk, ids }) };
}

/** Plans a fanned-out read of `route`, or undefined when it goes unscoped to one querynode. */
export function planScopedRead(route: string, body: JsonObject, raw: string, info: CollectionInfo): ScopedRead | undefined {
  try {
    if (route === API_PREFIX + 'entities/search') return planSearch(body, info);
    if (route === API_PREFIX + 'entities/query') return planQuery(body, info, raw);
    if (route === API_PREFIX + 'entities/get') return planGet(body, info, raw);
  } catch {
    // A body the route will reject: one node reports the error exactly.
  }
  return undefined;
}
