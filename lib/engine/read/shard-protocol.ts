/**
 * The typed internal protocol between a distributed read and its shards: request and response
 * types plus their wire encoding. Values keep their types across the wire: int64 keys as bigint,
 * vectors as Float32Array (tagged JSON), so no key loses precision. decode validates the shape and
 * throws on anything else.
 */
import type { QueryRequest, Row, SearchRequest } from '../database.ts';
import type { PrimaryKey } from '../schema/types.ts';

/**
 * Which share a shard serves: the view (the querynodes the read is answered by), the fleet the read
 * started from (default: the view; a superset once nodes failed), the holders per segment
 * (`replicas`, default 1) and the replica number the read chose (default 0). Every shard derives
 * the same owner of each segment from these alone.
 */
export interface Placement {
  view: string[];
  fleet?: string[];
  replicas?: number;
  replica?: number;
}

/** What every shard request names: the collection and the placement of the share the shard serves. */
export interface ShardTarget extends Placement {
  db: string;
  collection: string;
}

/** Highest `replicas` or replica number a request may name: far above any sensible setting. */
export const MAX_REPLICA = 64;

/** Search the shard's share: candidates only (no output fields), `limit` per query vector. */
export interface ShardSearchRequest extends ShardTarget {
  kind: 'search';
  request: Omit<SearchRequest, 'scope' | 'outputFields'>;
}
/** Per query vector, the shard's best candidates, best first. */
export interface ShardSearchResponse {
  hits: { pk: PrimaryKey; score: number }[][];
}

/** Query the shard's share: keys in primary-key order, or the count. */
export interface ShardQueryRequest extends ShardTarget {
  kind: 'query';
  request: Omit<QueryRequest, 'scope' | 'outputFields'>;
  count: boolean;
}
/** Keys in primary-key order, or the count of a count(*) query. */
export type ShardQueryResponse = { pks: PrimaryKey[] } | { count: number };

/** Materialize the rows of `pks` the shard holds, with `outputFields`. */
export interface ShardFetchRequest extends ShardTarget {
  kind: 'fetch';
  pks: PrimaryKey[];
  outputFields: string[];
  partitionNames?: string[];
  consistencyLevel?: QueryRequest['consistencyLevel'];
  sessionToken?: bigint;
}
/** Rows as the engine materializes them. */
export interface ShardRows {
  rows: Row[];
}

/** Live rows of the shard's share, of one partition or of all. */
export interface ShardStatsRequest extends ShardTarget {
  kind: 'stats';
  partitionName?: string;
}
/** The share's live rows. */
export interface ShardStats {
  rowCount: number;
}

/** Index build progress over the shard's share (every index, or the one named). */
export interface ShardIndexesRequest extends ShardTarget {
  kind: 'indexes';
  indexName: string;
}
/** Per index, the share's progress. */
export interface ShardIndexes {
  indexes: { indexName: string; totalRows: number; indexedRows: number; finished: boolean }[];
}

/** Any shard request. */
export type ShardRequest = ShardSearchRequest | ShardQueryRequest | ShardFetchRequest | ShardStatsRequest | ShardIndexesRequest;

const BIGINT = '$bigint';
const F32 = '$f32';

/** The wire text of a request or response. */
export function encodeShardMessage(message: ShardRequest | ShardSearchResponse | ShardQueryResponse | ShardRows | ShardStats | ShardIndexes): string {
  return JSON.stringify(message, function (this: unknown, _key, value: unknown) {
    if (typeof value === 'bigint') return { [BIGINT]: value.toString() };
    if (value instanceof Float32Array) return { [F32]: Array.from(value) };
    return value;
  });
}

function revive(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const v = value as Record<string, unknown>;
      if (keys.length === 1 && keys[0] === BIGINT && typeof v[BIGINT] === 'string') return BigInt(v[BIGINT]);
      if (keys.length === 1 && keys[0] === F32 && Array.isArray(v[F32])) return Float32Array.from(v[F32] as number[]);
    }
    return value;
  });
}

function fail(what: string): never {
  throw new TypeError(`malformed shard message: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isCount(v: unknown, min: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= MAX_REPLICA;
}

function isKey(v: unknown): v is PrimaryKey {
  return typeof v === 'bigint' || typeof v === 'string';
}

/** Decodes and validates a request. */
export function decodeShardRequest(text: string): ShardRequest {
  const m = revive(text);
  if (!isObject(m)) fail('not an object');
  if (typeof m.db !== 'string' || typeof m.collection !== 'string' || !Array.isArray(m.view) || !m.view.every((id) => typeof id === 'string')) fail('target');
  if (m.fleet !== undefined && !(Array.isArray(m.fleet) && m.fleet.every((id) => typeof id === 'string'))) fail('fleet');
  if (m.replicas !== undefined && !isCount(m.replicas, 1)) fail(`replicas ${JSON.stringify(m.replicas)}`);
  if (m.replica !== undefined && !isCount(m.replica, 0)) fail(`replica ${JSON.stringify(m.replica)}`);
  if (m.kind === 'search') {
    if (!isObject(m.request) || !Array.isArray(m.request.vectors) || !m.request.vectors.every((v) => v instanceof Float32Array)) fail('search request');
    return m as unknown as ShardSearchRequest;
  }
  if (m.kind === 'query') {
    if (!isObject(m.request) || typeof m.count !== 'boolean') fail('query request');
    return m as unknown as ShardQueryRequest;
  }
  if (m.kind === 'fetch') {
    if (!Array.isArray(m.pks) || !m.pks.every(isKey) || !Array.isArray(m.outputFields)) fail('fetch request');
    return m as unknown as ShardFetchRequest;
  }
  if (m.kind === 'stats') {
    if (m.partitionName !== undefined && typeof m.partitionName !== 'string') fail('stats request');
    return m as unknown as ShardStatsRequest;
  }
  if (m.kind === 'indexes') {
    if (typeof m.indexName !== 'string') fail('indexes request');
    return m as unknown as ShardIndexesRequest;
  }
  return fail(`kind ${String(m.kind)}`);
}

/** Decodes and validates a search response. */
export function decodeSearchResponse(text: string): ShardSearchResponse {
  const m = revive(text);
  if (!isObject(m) || !Array.isArray(m.hits)) fail('search response');
  for (const list of m.hits) if (!Array.isArray(list) || !list.every((h) => isObject(h) && isKey(h.pk) && typeof h.score === 'number')) fail('search hits');
  return m as unknown as ShardSearchResponse;
}

/** Decodes and validates a query response. */
export function decodeQueryResponse(text: string): ShardQueryResponse {
  const m = revive(text);
  if (isObject(m) && typeof m.count === 'number') return { count: m.count };
  if (isObject(m) && Array.isArray(m.pks) && m.pks.every(isKey)) return { pks: m.pks };
  return fail('query response');
}

/** Decodes and validates a fetch response. */
export function decodeRows(text: string): ShardRows {
  const m = revive(text);
  if (!isObject(m) || !Array.isArray(m.rows) || !m.rows.every(isObject)) fail('rows');
  return m as unknown as ShardRows;
}

/** Decodes and validates a stats response. */
export function decodeStats(text: string): ShardStats {
  const m = revive(text);
  if (!isObject(m) || typeof m.rowCount !== 'number') fail('stats');
  return { rowCount: m.rowCount };
}

/** Decodes and validates an indexes response. */
export function decodeIndexes(text: string): ShardIndexes {
  const m = revive(text);
  const valid = (i: unknown) =>
    isObject(i) && typeof i.indexName === 'string' && typeof i.totalRows === 'number' && typeof i.indexedRows === 'number' && typeof i.finished === 'boolean';
  if (!isObject(m) || !Array.isArray(m.indexes) || !m.indexes.every(valid)) fail('indexes');
  return m as unknown as ShardIndexes;
}

/** An engine error a shard answered, rebuilt on the reader's side: same `kind`, message and fields, so isEngineError and the wire table treat it as the original. */
export class ShardAnsweredError extends Error {
  /** The answered error's kind (its class's stable name). */
  readonly kind: string;
  constructor(kind: string, message: string, fields: Record<string, unknown>) {
    super(message);
    Object.assign(this, fields);
    this.kind = kind;
    this.name = `${kind}Error`;
  }
}

/** The wire text of an error a shard answers: the engine error's kind, message and own fields. */
export function encodeShardError(err: unknown): string {
  const e = err as { kind?: unknown; message?: unknown };
  const fields: Record<string, unknown> = {};
  if (err !== null && typeof err === 'object') for (const [k, v] of Object.entries(err)) if (k !== 'kind' && (typeof v !== 'object' || v === null)) fields[k] = v;
  return JSON.stringify(
    { error: { kind: typeof e.kind === 'string' ? e.kind : 'Internal', message: typeof e.message === 'string' ? e.message : String(err), fields } },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

/** The error of an error answer, or undefined when `text` is not one. */
export function decodeShardError(text: string): ShardAnsweredError | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(m) || !isObject(m.error) || typeof m.error.kind !== 'string' || typeof m.error.message !== 'string') return undefined;
  return new ShardAnsweredError(m.error.kind, m.error.message, isObject(m.error.fields) ? m.error.fields : {});
}
