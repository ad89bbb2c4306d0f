/**
 * JSON with bigint support and a checksum, for catalog entries and other small KV values
 * (collection infos, segment metas, channel checkpoints, the format stamp; collection ids,
 * timestamps and WAL positions are bigint).
 *
 * Layout of a value (format 2): magic 'MGJS' | version u8 (2) | 3 reserved bytes (0) | CRC-32 u32
 * of bytes [0, 8) followed by the JSON | UTF-8 JSON. The KV stores (LMDB, DynamoDB) keep no
 * checksum of their own that we can see, so every value carries one; a mismatch is a
 * CorruptDataError naming the key. Format 1 (bare JSON, written before checksums) is still read:
 * JSON text never starts with 'M', so the two cannot be confused, and a value whose magic is
 * damaged fails to parse as JSON instead of passing as an unchecked one.
 */
import { crc32 } from '../codec/crc32.ts';
import { checksumMismatch, CorruptDataError } from '../errors.ts';

const BIGINT_TAG = '$bigint:';
const MAGIC = [0x4d, 0x47, 0x4a, 0x53]; // 'MGJS'
/** The value format this build writes. */
export const JSON_VALUE_VERSION = 2;
const HEADER_BYTES = 12;

/** Serializes to checksummed UTF-8 JSON; bigints become tagged strings so they round-trip exactly. */
export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? BIGINT_TAG + v.toString() : v));
  const json = Buffer.from(text);
  const out = new Uint8Array(HEADER_BYTES + json.length);
  out.set(MAGIC, 0);
  out[4] = JSON_VALUE_VERSION;
  out.set(json, HEADER_BYTES);
  new DataView(out.buffer).setUint32(8, valueCrc(out), true);
  return out;
}

/** CRC of a format-2 value: bytes [0, 8) followed by the JSON. */
function valueCrc(bytes: Uint8Array): number {
  return crc32(bytes.subarray(HEADER_BYTES), crc32(bytes.subarray(0, 8)));
}

/**
 * Inverse of encodeJson (also reads format-1 values: bare JSON). Throws a CorruptDataError naming
 * `key` when the checksum does not match or the value is not JSON.
 */
export function decodeJson<T>(bytes: Uint8Array, key = 'KV value'): T {
  let json = bytes;
  if (bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b)) {
    const bad = (what: string) => new CorruptDataError(`catalog entry ${key}: ${what}; the entry is damaged — restore the KV store from a backup`, { key, what: 'catalog entry' });
    if (bytes.length < HEADER_BYTES) throw bad(`${bytes.length} bytes is shorter than its ${HEADER_BYTES}-byte header`);
    if (bytes[4] !== JSON_VALUE_VERSION) throw bad(`format version ${bytes[4]} is not readable by this build (reads 1 and ${JSON_VALUE_VERSION})`);
    const expected = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES).getUint32(8, true);
    const actual = valueCrc(bytes);
    if (actual !== expected) throw checksumMismatch('catalog entry', key, 'its content', expected, actual);
    json = bytes.subarray(HEADER_BYTES);
  }
  try {
    return JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'), (_k, v) =>
      typeof v === 'string' && v.startsWith(BIGINT_TAG) ? BigInt(v.slice(BIGINT_TAG.length)) : v,
    ) as T;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new CorruptDataError(`catalog entry ${key} is damaged: it is neither a checksummed entry nor JSON (${err.message}); restore the KV store from a backup`, {
      key,
      what: 'catalog entry',
    });
  }
}
