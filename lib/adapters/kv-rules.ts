/** Argument rules shared by every KvStore adapter, so all of them reject the same calls the same way. */
import { MAX_ATOMIC_WRITES, type KvRange, type KvWrite } from '../engine/ports/kv-store.ts';
import { checkBytes, checkKvKey, compareUtf8, describe } from './key-rules.ts';

/** A KvRange reduced to one lower bound, an optional upper bound, a prefix ('' for none) and a limit. */
export interface RangeBounds {
  /** Inclusive lower bound: the larger of `start` and `prefix`. */
  start: string;
  /** Exclusive upper bound, if any. */
  end: string | undefined;
  prefix: string;
  limit: number | undefined;
}

/** Throws unless `prefix` is a non-empty string (deletePrefix('') would wipe the store, so it is refused). */
export function checkKvPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new TypeError(`KV prefix must be a non-empty string, got ${describe(prefix)}; to empty a store use a prefix every key shares`);
  }
}

/** Throws unless `range` has string bounds and a non-negative integer limit. */
export function checkKvRange(range: KvRange): void {
  if (range === null || typeof range !== 'object') throw new TypeError(`scan range must be an object, got ${describe(range)}`);
  for (const field of ['start', 'end', 'prefix'] as const) {
    const v = range[field];
    if (v !== undefined && typeof v !== 'string') throw new TypeError(`scan range ${field} must be a string, got ${describe(v)}`);
  }
  if (range.limit !== undefined && (!Number.isSafeInteger(range.limit) || range.limit < 0)) {
    throw new RangeError(`scan limit must be a non-negative integer, got ${describe(range.limit)}`);
  }
}

/** Folds start/end/prefix into a single [start, end) walk plus a prefix check. */
export function rangeBounds(range: KvRange): RangeBounds {
  const prefix = range.prefix ?? '';
  const start = range.start === undefined || compareUtf8(range.start, prefix) < 0 ? prefix : range.start;
  return { start, end: range.end, prefix, limit: range.limit };
}

/**
 * Throws unless `ops` is an atomic batch every adapter can apply: at most MAX_ATOMIC_WRITES valid
 * puts/deletes, each key at most once (DynamoDB's TransactWriteItems refuses two operations on one item).
 */
export function checkKvWrites(ops: KvWrite[]): void {
  if (!Array.isArray(ops)) throw new TypeError(`write() takes an array of operations, got ${describe(ops)}`);
  if (ops.length > MAX_ATOMIC_WRITES) {
    throw new RangeError(`write() got ${ops.length} operations but at most ${MAX_ATOMIC_WRITES} (MAX_ATOMIC_WRITES) apply atomically; split the batch or use batchPut`);
  }
  const seen = new Set<string>();
  for (const op of ops) {
    if (op === null || typeof op !== 'object' || (op.type !== 'put' && op.type !== 'delete')) {
      throw new TypeError(`write() operation must be {type: 'put', key, value} or {type: 'delete', key}, got ${describe(op)}`);
    }
    checkKvKey(op.key);
    if (op.type === 'put') checkBytes(op.value, `value for KV key ${JSON.stringify(op.key)}`);
    if (seen.has(op.key)) throw new RangeError(`write() has two operations on KV key ${JSON.stringify(op.key)}; merge them into one`);
    seen.add(op.key);
  }
}
