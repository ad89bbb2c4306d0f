/**
 * Milvus REST v2 response envelopes. Keys are written in alphabetical order, as Go encodes maps:
 * `code`, `cost`, `data`, `message`, then the Migrans extension `sessionToken`, then `topks`.
 */
import { writeJson } from './json-writer.ts';

/** CORS headers Milvus sets on every response (utils.go RequestHandlerFunc). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-credentials': 'true',
  'access-control-allow-headers': 'Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, accept, origin, Cache-Control, X-Requested-With',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH',
};

/** Headers of every JSON response. */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  ...CORS_HEADERS,
};

/** `{"code":0,"data":{}}`: the default success of create/drop/load/… */
export const OK_EMPTY = '{"code":0,"data":{}}';

/** Parts of a success envelope; `data` is already-serialized JSON. */
export interface Envelope {
  data: string;
  /** Data-returning entity endpoints carry `"cost":0`. */
  cost?: boolean;
  /** describe / get_load_state carry `"message":""`. */
  message?: string;
  /** Migrans extension on writes: the write's hybrid timestamp, for Session reads. */
  sessionToken?: bigint;
  /** Search: hits per query vector. */
  topks?: number[];
}

/** A success envelope. */
export function success(e: Envelope): string {
  let s = '{"code":0';
  if (e.cost) s += ',"cost":0';
  s += `,"data":${e.data}`;
  if (e.message !== undefined) s += `,"message":${JSON.stringify(e.message)}`;
  if (e.sessionToken !== undefined) s += `,"sessionToken":"${e.sessionToken.toString()}"`;
  if (e.topks !== undefined) s += `,"topks":[${e.topks.join(',')}]`;
  return `${s}}`;
}

/** `{"code":0,"data":[names…]}` (never null). */
export function listResponse(names: readonly string[]): string {
  return success({ data: writeJson(names) });
}

/** `{"code":0,"data":{"has":bool}}`. */
export function hasResponse(has: boolean): string {
  return success({ data: `{"has":${has}}` });
}

/** `{"code":0,"data":{"rowCount":n}}`. */
export function rowCountResponse(rowCount: number): string {
  return success({ data: `{"rowCount":${rowCount}}` });
}

/** `[{key, value}]` as Milvus lists properties and params. */
export function keyValueList(record: Readonly<Record<string, string>>): string {
  return writeJson(Object.entries(record).map(([key, value]) => ({ key, value })));
}

/** An error envelope `{"code":n,"message":"…"}`. */
export function errorBody(code: number, message: string): string {
  return `{"code":${code},"message":${JSON.stringify(message)}}`;
}
