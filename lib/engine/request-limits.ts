/**
 * Bounds on the work one request may ask of the server, in one place. The engine and the REST layer
 * run on one event loop: a single unbounded request (a 1,000,000-key `in` list, a body nested
 * 100,000 levels deep, a 60 MB filter) used to stall every other client for seconds or overflow the
 * stack into a 65535. Each limit is checked before the expensive step it protects, and a request past
 * it gets a client error naming the limit, the value received and what to send instead.
 *
 * Milvus has limits of the same kind (gRPC message size, `proxy.maxResultWindow`, Go's JSON decoder
 * depth); the values here are Migrans's, chosen so each bounded step takes well under 100 ms.
 */
import { LOGICAL_PER_MS } from './tso.ts';

/**
 * Longest filter expression, in characters. Parsing costs about 0.25 µs a character, so 256 KiB is
 * ~60 ms; long `in` lists belong in `exprParams` (`id in {ids}`), which cost ~8× less.
 */
export const MAX_FILTER_LENGTH = 256 * 1024;

/** Most values in one `in` / `contains_any` / `contains_all` list, and most keys one `get` asks for. */
export const MAX_TERM_COUNT = 65_536;

/** Most values (scalars, lists and objects, counted together) in a request's `exprParams`: room for two full lists. */
export const MAX_TEMPLATE_VALUES = 2 * MAX_TERM_COUNT + 16;

/** Deepest nesting of a request body (Go's JSON decoder stops at 10,000; deeper bodies are attacks, not data). */
export const MAX_REQUEST_DEPTH = 1024;

/** Deepest nesting of one JSON field or dynamic field value, and of an `exprParams` value. */
export const MAX_JSON_DEPTH = 256;

/** Longest `like` pattern, in characters: matching costs up to value length × pattern length per row. */
export const MAX_LIKE_PATTERN_LENGTH = 4096;

/**
 * Most rows of one insert into an autoID collection: its keys are consecutive timestamps, and one
 * millisecond holds 2^18 of them.
 */
export const MAX_AUTOID_BATCH = LOGICAL_PER_MS;

/**
 * How deep `value` nests (a scalar is 0, `[]` and `{}` are 1), counted without recursion; stops and
 * returns `limit + 1` as soon as the depth passes `limit`.
 */
export function jsonDepth(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  let max = 1;
  while (stack.length > 0) {
    const v = stack.pop() as object;
    const d = depths.pop()!;
    if (d > max) {
      max = d;
      if (max > limit) return limit + 1;
    }
    const items = Array.isArray(v) ? v : Object.values(v);
    for (const x of items) {
      if (typeof x === 'object' && x !== null && !ArrayBuffer.isView(x)) {
        stack.push(x);
        depths.push(d + 1);
      }
    }
  }
  return max;
}

/** How many values `value` holds (itself and everything nested), counted without recursion; stops past `limit`. */
export function jsonSize(value: unknown, limit: number): number {
  const stack: unknown[] = [value];
  let n = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++n > limit) return n;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push(x);
  }
  return n;
}
