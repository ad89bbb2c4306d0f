/**
 * The proxy's reduce of a fanned-out read: each querynode answered for its share of the segments
 * (disjoint, together complete); these pure functions merge the successful answers (`code` 0) into
 * the answer one querynode serving every segment gives. Rows are moved verbatim (raw-json.ts).
 *
 * Nodes apply the WAL at their own pace: while a row is being overwritten, one node may already
 * show the new version (in its segment) and another still the old one (in its own). The reduce
 * keeps one row per primary key (the first in merge order), so an answer never shows a key twice.
 */
import { parseJson } from '../api/json-parse.ts';
import { success } from '../api/response.ts';
import type { MetricType } from '../engine/ports/vector-index.ts';
import { higherIsBetter } from '../engine/search/metric.ts';
import { comparePrimaryKeys } from '../engine/segment-scope.ts';
import { rawElements, rawMembers } from './raw-json.ts';

/** The collection's primary key as the answers encode it. */
export interface PrimaryKeyInfo {
  name: string;
  /** Int64 keys compare as integers (also when sent as decimal strings), VarChar keys by UTF-8 bytes. */
  int64: boolean;
}

/** The rows (raw JSON texts) and `topks` of a successful answer. */
function answerParts(body: string): { rows: string[]; topks: number[] | undefined } {
  const members = rawMembers(body);
  const data = members.get('data');
  const topks = members.get('topks');
  return { rows: data === undefined ? [] : rawElements(data), topks: topks === undefined ? undefined : (JSON.parse(topks) as number[]) };
}

/** The value of one member of a raw row. */
function member(row: string, name: string): unknown {
  return (parseJson(row) as Record<string, unknown>)[name];
}

/** A sort key of a primary key value as encoded in an answer or a request. */
function keyOf(value: unknown, pk: PrimaryKeyInfo): bigint | string {
  if (!pk.int64) return String(value);
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' || typeof value === 'string') return BigInt(value);
  throw new TypeError(`primary key ${pk.name} of a querynode row is ${JSON.stringify(value)}, not an Int64; the collection's schema and the answer disagree`);
}

/** The items whose key was not seen before, in order. */
function firstPerKey<T extends { key: bigint | string }>(items: readonly T[]): T[] {
  const seen = new Set<bigint | string>();
  return items.filter((item) => !seen.has(item.key) && (seen.add(item.key), true));
}

/**
 * Search: every node returned its best offset+limit hits per query vector (flattened `data`,
 * `topks` per vector); per vector, merges them by distance in the metric's direction (ties keep
 * node order) and keeps [offset, offset+limit).
 */
export function reduceSearch(bodies: readonly string[], options: { pk: PrimaryKeyInfo; metric: MetricType; offset: number; limit: number }): string {
  const desc = higherIsBetter(options.metric);
  const perQuery: { row: string; distance: number; key: bigint | string }[][] = [];
  for (const body of bodies) {
    const { rows, topks } = answerParts(body);
    const counts = topks ?? [rows.length];
    let next = 0;
    counts.forEach((n, q) => {
      const list = (perQuery[q] ??= []);
      for (const row of rows.slice(next, next + n)) {
        const parsed = parseJson(row) as Record<string, unknown>;
        list.push({ row, distance: Number(parsed.distance), key: keyOf(parsed[options.pk.name], options.pk) });
      }
      next += n;
    });
  }
  const parts: string[] = [];
  const topks: number[] = [];
  for (const hits of perQuery) {
    hits.sort((a, b) => (desc ? b.distance - a.distance : a.distance - b.distance));
    const kept = firstPerKey(hits).slice(options.offset, options.offset + options.limit);
    topks.push(kept.length);
    for (const h of kept) parts.push(h.row);
  }
  return success({ cost: true, data: `[${parts.join(',')}]`, topks });
}

/**
 * Query: every node returned its matches in primary-key order, the first offset+limit of them
 * (all when `limit` is undefined); merges by primary key and keeps [offset, offset+limit).
 */
export function reduceQuery(bodies: readonly string[], options: { pk: PrimaryKeyInfo; offset: number; limit: number | undefined }): string {
  const rows: { row: string; key: bigint | string }[] = [];
  for (const body of bodies) for (const row of answerParts(body).rows) rows.push({ row, key: keyOf(member(row, options.pk.name), options.pk) });
  rows.sort((a, b) => comparePrimaryKeys(a.key, b.key));
  const unique = firstPerKey(rows);
  const kept = options.limit === undefined ? unique : unique.slice(options.offset, options.offset + options.limit);
  return success({ cost: true, data: `[${kept.map((r) => r.row).join(',')}]` });
}

/** Query of `count(*)`: the sum of the nodes' counts, written as they wrote theirs (number or decimal string). */
export function reduceCount(bodies: readonly string[]): string {
  let total = 0n;
  let asString = false;
  for (const body of bodies) {
    const value = member(answerParts(body).rows[0] ?? '{"count(*)":0}', 'count(*)');
    if (typeof value === 'string') asString = true;
    total += BigInt(value as number | bigint | string);
  }
  return success({ cost: true, data: `[{"count(*)":${asString ? `"${total}"` : total}}]` });
}

/** Get: the union of the nodes' rows, in the order of the requested ids (as one node answers). */
export function reduceGet(bodies: readonly string[], options: { pk: PrimaryKeyInfo; ids: readonly unknown[] }): string {
  const position = new Map<bigint | string, number>();
  options.ids.forEach((id, i) => {
    const key = keyOf(id, options.pk);
    if (!position.has(key)) position.set(key, i);
  });
  const rows: { row: string; key: bigint | string; at: number }[] = [];
  for (const body of bodies) {
    for (const row of answerParts(body).rows) {
      const key = keyOf(member(row, options.pk.name), options.pk);
      rows.push({ row, key, at: position.get(key) ?? Number.MAX_SAFE_INTEGER });
    }
  }
  rows.sort((a, b) => a.at - b.at);
  return success({
    cost: true,
    data: `[${firstPerKey(rows)
      .map((r) => r.row)
      .join(',')}]`,
  });
}
