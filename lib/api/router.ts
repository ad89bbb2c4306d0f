/**
 * The Milvus REST v2 router: one framework-free function shared by the embedded Node server and the
 * API Lambda. Order of checks, as Milvus's gin stack: OPTIONS → 204 (CORS preflight), auth → 401,
 * exact-path POST route → else 404 text, body → decoded per its Content-Encoding (request-body.ts:
 * gzip or identity, so a compressed upload is never inflated for an unauthenticated caller) → JSON
 * (whatever the Content-Type), handler.
 * Business errors are HTTP 200 + `{code, message}`, the code from the one error table
 * (error-codes.ts); a full disk (ENOSPC anywhere in the error's causes) is Milvus's 7 "disk limit
 * exceeded"; unexpected errors are logged once with their stack and answered as code 65535 without it.
 * A request's id is its `X-Request-Id` header when that is a sane token (the proxy passes its own to
 * querynodes, so their lines correlate), else a fresh UUID.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../engine/database.ts';
import { NOOP_LOGGER } from '../engine/ports/logger.ts';
import { isAuthorized } from './auth.ts';
import { ErrorCode, MilvusError, wireError } from './error-codes.ts';
import { BAD_JSON_PREFIX, StructReader } from './bind.ts';
import { CHUNK_BYTES, parseJsonBody } from './json-parse.ts';
import { DEFAULT_MAX_BODY_BYTES, decodeBody } from './request-body.ts';
import { CORS_HEADERS, JSON_HEADERS, errorBody } from './response.ts';
import { aliasRoutes } from './routes/aliases.ts';
import { collectionRoutes } from './routes/collections.ts';
import { databaseRoutes } from './routes/databases.ts';
import { entityRoutes } from './routes/entities.ts';
import { indexRoutes } from './routes/indexes.ts';
import { partitionRoutes } from './routes/partitions.ts';
import type { ApiOptions, ApiRequest, ApiResponse, Route } from './types.ts';

/** The header carrying a request's id (lower case, as lowerHeaders spells it). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The id of a request: its X-Request-Id header when that is 1–128 safe characters, else `fallback`, else a fresh UUID. */
export function requestIdOf(headers: Record<string, string | undefined>, fallback?: string): string {
  const given = Object.entries(headers).find(([k]) => k.toLowerCase() === REQUEST_ID_HEADER)?.[1];
  return given !== undefined && /^[\w.:-]{1,128}$/.test(given) ? given : fallback || randomUUID();
}

/** Every route prefix. */
export const API_PREFIX = '/v2/vectordb/';

const ROUTES = new Map<string, Route>();
/** Routes whose body carries rows: nesting past the body limit is a row's value, so bad insert data (1804). */
const ROW_ROUTES = new Set([`${API_PREFIX}entities/insert`, `${API_PREFIX}entities/upsert`]);
for (const table of [collectionRoutes, entityRoutes, indexRoutes, partitionRoutes, aliasRoutes, databaseRoutes]) {
  for (const [path, route] of Object.entries(table)) ROUTES.set(API_PREFIX + path, route);
}

/** The paths the router serves (for docs and tests). */
export function routePaths(): string[] {
  return [...ROUTES.keys()];
}

const NOT_FOUND: ApiResponse = {
  status: 404,
  headers: { 'content-type': 'text/plain', ...CORS_HEADERS },
  body: '404 page not found',
};

const UNAUTHENTICATED = errorBody(ErrorCode.NotAuthenticated, "user hasn't authenticated");

/** Lower-cases header names (Lambda events keep the client's casing). */
function lowerHeaders(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** Go's strconv.ParseBool; undefined when unparsable. */
function parseGoBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/**
 * Parses the body: empty → 1801 (Milvus's text), bad JSON → 1801 with the parser's message, nested
 * past MAX_REQUEST_DEPTH → 1801 naming the limit. Large bodies are parsed in slices (json-parse.ts).
 */
async function parseBody(raw: string | Buffer, tooDeepCode: number): Promise<unknown> {
  // A large body is decoded slice by slice (json-parse.ts): decoding 60 MB at once blocks for ~100 ms.
  let body: string | Buffer = raw;
  if (typeof raw === 'string' || raw.length <= CHUNK_BYTES) {
    let text = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') {
      throw new MilvusError(ErrorCode.BadJson, `${BAD_JSON_PREFIX}, the request body should be nil, however {} is valid`);
    }
    body = text;
  }
  try {
    return await parseJsonBody(body, tooDeepCode);
  } catch (err) {
    if (!wireError(err).internal) throw err;
    throw new MilvusError(ErrorCode.BadJson, `${BAD_JSON_PREFIX}, error: ${(err as Error).message}`);
  }
}

/** Handles one REST v2 request against `db`; never throws. */
export async function handleRequest(db: Database, req: ApiRequest, options: ApiOptions = {}): Promise<ApiResponse> {
  const method = req.method.toUpperCase();
  if (method === 'OPTIONS') return { status: 204, headers: { ...CORS_HEADERS }, body: '' };
  const headers = lowerHeaders(req.headers);
  if (options.token !== undefined && !isAuthorized(headers.authorization, options.token)) {
    return { status: 401, headers: { ...JSON_HEADERS }, body: UNAUTHENTICATED };
  }
  let path = req.path;
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  if (path.length > API_PREFIX.length && path.endsWith('/')) path = path.slice(0, -1);
  const route = ROUTES.get(path);
  if (!route || method !== 'POST') return { ...NOT_FOUND, headers: { ...NOT_FOUND.headers } };

  try {
    const body = await decodeBody(req.body, headers['content-encoding'], options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    // `null` binds as {}; a non-object is a 1801 naming the route's struct.
    const reader = StructReader.of(await parseBody(body, ROW_ROUTES.has(path) ? ErrorCode.BadInsertData : ErrorCode.BadJson), route.structName);
    const dbName = reader.string('dbName') || headers['db-name'] || 'default';
    const int64AsString = parseGoBool(headers['accept-type-allow-int64']) === false;
    const text = await route.handle({ db, dbName, req: reader, body: reader.obj, int64AsString });
    return { status: 200, headers: { ...JSON_HEADERS }, body: text };
  } catch (err) {
    const wire = wireError(err);
    if (wire.internal) (options.logger ?? NOOP_LOGGER).error(`unexpected error in ${path}`, { path, error: err });
    return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(wire.code, wire.message), error: err as Error };
  }
}
