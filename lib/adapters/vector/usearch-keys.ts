/**
 * Conversions between the port's Uint32Array row offsets and usearch's BigUint64Array keys, done on
 * 32-bit halves of the 64-bit words so no bigint is created per element.
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // The low 32-bit word of a u64 comes first only on little-endian platforms.
  throw new Error('usearch key conversion requires a little-endian platform');
}

/** Widens row offsets to usearch keys. */
export function toUsearchKeys(keys: Uint32Array): BigUint64Array {
  const out = new BigUint64Array(keys.length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0, n = keys.length; i < n; i++) words[2 * i] = keys[i];
  return out;
}

/** The low 32 bits of usearch keys as a Uint32Array view-friendly word array (index 2*i is key i). */
export function usearchKeyWords(keys: BigUint64Array): Uint32Array {
  return new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
}
