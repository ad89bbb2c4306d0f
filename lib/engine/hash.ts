/**
 * Milvus's primary-key hashes (milvus-io/milvus pkg/util/typeutil/hash.go), bit-exact so that
 * "channel i" here is Milvus's vchannel i for the same key and shard count.
 */
import { crc32 } from './codec/crc32.ts';
import type { PrimaryKey } from './schema/types.ts';

/** Milvus hashes at most this many leading UTF-8 bytes of a VarChar key (`substringLengthForCRC`). */
export const VARCHAR_HASH_PREFIX_BYTES = 100;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** One murmur3 body round: mixes block `k` into state `h`. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3 finalizer (fmix32) after xoring in the length. */
function finalize(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of `bytes` (unsigned 32-bit result), as Go's spaolacci/murmur3 `New32WithSeed`. */
export function murmur3_32(bytes: Uint8Array, seed = 0): number {
  let h = seed | 0;
  const n = bytes.length;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    h = mixBlock(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  const tail = n & 3;
  if (tail !== 0) {
    let k = bytes[i];
    if (tail > 1) k ^= bytes[i + 1] << 8;
    if (tail > 2) k ^= bytes[i + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return finalize(h, n);
}

// A shared 8-byte scratch turns a bigint into its two little-endian 32-bit words without
// allocating (BigInt shifts and masks would allocate two bigints per key).
const scratchI64 = new BigInt64Array(1);
const scratchU32 = new Uint32Array(scratchI64.buffer);
const scratchBytes = new Uint8Array(scratchI64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Milvus `Hash32Int64`: murmur3_32 (seed 0) of the 8 little-endian bytes of `v`, masked to 31 bits.
 * Throws a RangeError for values outside int64 (Go could not hold them either).
 */
export function hashInt64(v: bigint): number {
  if (v < INT64_MIN || v > INT64_MAX) {
    throw new RangeError(`Int64 primary key out of range: ${v}; Int64 keys must lie in [-(2^63), 2^63-1]`);
  }
  scratchI64[0] = v;
  if (!LITTLE_ENDIAN) return murmur3_32(new Uint8Array(scratchBytes).reverse()) & 0x7fffffff;
  const h = mixBlock(mixBlock(0, scratchU32[0] | 0), scratchU32[1] | 0);
  return finalize(h, 8) & 0x7fffffff;
}

// Scratch for the UTF-8 prefix: a char is at most 4 bytes, so encodeInto (which only writes whole
// chars) fills ≥ 100 bytes whenever the string has ≥ 100 — Go's `s[:100]` may cut a char in half.
const prefixBuf = new Uint8Array(VARCHAR_HASH_PREFIX_BYTES + 3);
const encoder = new TextEncoder();

/**
 * Milvus `HashString2Uint32`: crc32 (IEEE) of the first 100 UTF-8 bytes of `s` (a byte slice, so a
 * multi-byte character may be cut). Not masked: the full unsigned 32-bit CRC, as Milvus.
 * Lone surrogates encode as U+FFFD, as Go's JSON decoder turns them into U+FFFD too.
 */
export function hashVarChar(s: string): number {
  // ASCII fast path: each UTF-16 unit is one byte, so hash straight from the char codes.
  const n = Math.min(s.length, VARCHAR_HASH_PREFIX_BYTES);
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    prefixBuf[i] = c;
  }
  if (ascii) return crc32(prefixBuf.subarray(0, n));
  const { written } = encoder.encodeInto(s, prefixBuf);
  return crc32(prefixBuf.subarray(0, Math.min(written, VARCHAR_HASH_PREFIX_BYTES)));
}

/** The Milvus routing hash of a primary key (Int64 → `hashInt64`, VarChar → `hashVarChar`). */
export function hashPrimaryKey(pk: PrimaryKey): number {
  return typeof pk === 'bigint' ? hashInt64(pk) : hashVarChar(pk);
}

/** The channel (shard) index of a primary key: Milvus's `hash % shards`. */
export function channelOf(pk: PrimaryKey, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`shard count must be a positive integer, got ${shards}`);
  }
  return hashPrimaryKey(pk) % shards;
}
