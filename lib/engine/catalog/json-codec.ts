/** JSON with bigint support, for catalog entries (collection ids, timestamps and WAL positions are bigint). */

const BIGINT_TAG = '$bigint:';

/** Serializes to UTF-8 JSON; bigints become tagged strings so they round-trip exactly. */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? BIGINT_TAG + v.toString() : v)));
}

/** Inverse of encodeJson. */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), (_k, v) =>
    typeof v === 'string' && v.startsWith(BIGINT_TAG) ? BigInt(v.slice(BIGINT_TAG.length)) : v,
  ) as T;
}
