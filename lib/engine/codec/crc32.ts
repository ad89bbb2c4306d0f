/** CRC-32 (IEEE 802.3, the polynomial of zlib, Go's `crc32.ChecksumIEEE` and PNG). */
import * as zlib from 'node:zlib';

/** Reflected IEEE polynomial. */
const POLY = 0xedb88320;

/** Slice-by-8 tables: TABLES[k][b] is the CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let i = 0; i < 8; i++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][n] = c >>> 0;
    }
  }
  return t;
})();

/**
 * Table-driven CRC-32 in plain JS (slice-by-8). `seed` is the CRC of the preceding bytes, so
 * `crc32Portable(b, crc32Portable(a)) === crc32Portable(a ++ b)`. Exported so tests can check it
 * against the native path.
 */
export function crc32Portable(bytes: Uint8Array, seed = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~seed;
  let i = 0;
  const n = bytes.length;
  const end8 = n - (n % 8);
  for (; i < end8; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t7[c & 0xff] ^ t6[(c >>> 8) & 0xff] ^ t5[(c >>> 16) & 0xff] ^ t4[c >>> 24] ^ t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** zlib's native crc32 (Node ≥ 20.15 / 22.2); absent on older 20.x, hence the portable fallback. */
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 (IEEE) of `bytes`, continuing from `seed` (the CRC of earlier bytes; 0 to start).
 * Uses zlib's native implementation when the runtime has it (same result, several times faster).
 */
export const crc32: (bytes: Uint8Array, seed?: number) => number = typeof nativeCrc32 === 'function' ? (bytes, seed = 0) => nativeCrc32(bytes, seed) >>> 0 : crc32Portable;
