/**
 * Rules every storage adapter applies to keys, so code tested on the memory adapters behaves the same
 * on local files, LMDB, S3 and DynamoDB: which keys are valid and how keys are ordered.
 */

/** Longest KV key in UTF-8 bytes: DynamoDB's sort-key limit (LMDB alone would allow 1978). */
export const MAX_KV_KEY_BYTES = 1024;

/** Largest version putIfNewer accepts: versions are stored as unsigned 64-bit integers. */
export const MAX_KV_VERSION = (1n << 64n) - 1n;

const encoder = new TextEncoder();

/**
 * Orders strings by their UTF-8 bytes (what LMDB, S3 and DynamoDB use). JS `<` compares UTF-16 code
 * units, which disagrees for astral characters (surrogates, U+D800–U+DFFF) against U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Only the surrogate-vs-upper-BMP case needs remapping; below U+D800 unit order is byte order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** UTF-8 byte length of `s` without allocating for the common all-ASCII case. */
export function utf8Length(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? s.length : encoder.encode(s).length;
}

/** Throws unless `key` is a non-empty string of at most MAX_KV_KEY_BYTES UTF-8 bytes. */
export function checkKvKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`KV key must be a non-empty string, got ${describe(key)}`);
  }
  const bytes = utf8Length(key);
  if (bytes > MAX_KV_KEY_BYTES) {
    throw new RangeError(`KV key is ${bytes} UTF-8 bytes, more than the ${MAX_KV_KEY_BYTES} allowed: shorten it (key starts ${JSON.stringify(key.slice(0, 40))})`);
  }
}

/** Throws unless `value` is a Uint8Array (Buffers included). */
export function checkBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array, got ${describe(value)}`);
}

/** Throws unless `version` is a bigint in [0, 2^64). */
export function checkVersion(version: unknown, key: string): asserts version is bigint {
  if (typeof version !== 'bigint' || version < 0n || version > MAX_KV_VERSION) {
    throw new RangeError(`version for KV key ${JSON.stringify(key)} must be a bigint in [0, 2^64), got ${describe(version)}`);
  }
}

/**
 * Throws unless `key` is a valid object key: non-empty '/'-separated segments, none of them '.', '..'
 * or empty (so no leading, trailing or doubled '/'), and no NUL. The local store maps keys to paths,
 * and the same rule everywhere keeps memory-tested code working on files.
 */
export function checkObjectKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`object key must be a non-empty string, got ${describe(key)}`);
  }
  const problem = objectPathProblem(key, false);
  if (problem) throw new RangeError(`invalid object key ${JSON.stringify(key)}: ${problem}; use '/'-separated names like 'collections/12/segment-3.bin'`);
}

/** Throws unless `prefix` is '' or a valid key prefix (every complete segment valid; the last may be partial). */
export function checkObjectPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') throw new TypeError(`object key prefix must be a string, got ${describe(prefix)}`);
  if (prefix.length === 0) return;
  const problem = objectPathProblem(prefix, true);
  if (problem) throw new RangeError(`invalid object key prefix ${JSON.stringify(prefix)}: ${problem}`);
}

/** Throws unless `prefix` is a valid, non-empty prefix: deletePrefix('') would wipe the store, so it is refused. */
export function checkObjectDeletePrefix(prefix: unknown): asserts prefix is string {
  if (prefix === '') throw new RangeError("deletePrefix('') would delete every object, so it is refused; pass the prefix the objects share");
  checkObjectPrefix(prefix);
}

/** Why `path` is not a valid key (or prefix, whose last segment may be partial or empty); undefined when valid. */
function objectPathProblem(path: string, isPrefix: boolean): string | undefined {
  if (path.includes('\0')) return 'it contains a NUL character';
  if (path.startsWith('/')) return "it starts with '/'";
  const segments = path.split('/');
  const complete = isPrefix ? segments.length - 1 : segments.length;
  for (let i = 0; i < complete; i++) {
    const s = segments[i];
    if (s === '') return "it has an empty segment ('//' or a trailing '/')";
    if (s === '.' || s === '..') return `it has a '${s}' segment`;
  }
  return undefined;
}

/** Throws unless `offset` and `length` of a ranged object read are non-negative safe integers. */
export function checkRange(key: string, offset: unknown, length: unknown): asserts offset is number {
  if (!Number.isSafeInteger(offset) || (offset as number) < 0 || !Number.isSafeInteger(length) || (length as number) < 0) {
    throw new RangeError(`getRange(${JSON.stringify(key)}) needs a non-negative integer offset and length, got offset ${describe(offset)}, length ${describe(length)}`);
  }
}

/** A short printable form of an arbitrary value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return value.constructor?.name ?? 'object';
}
