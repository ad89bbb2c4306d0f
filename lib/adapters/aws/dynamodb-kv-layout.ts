/**
 * How DynamoDbKvStore lays KV keys out over DynamoDB partition keys, and why.
 *
 * DynamoDB orders items only within one partition key, so an ordered KV store must choose which keys
 * share a partition. Two namespaces, two answers:
 *
 * - Plain keys (put/get/scan) need global byte order. A plain key's partition is its "directory"
 *   cut at `depth` levels: the prefix through its `depth`-th '/' (or through its last '/' when it has
 *   fewer; '' when it has none). `meta/segment/000000000042/000000000007` → `meta/segment/` at depth
 *   2, `meta/next-id` → `meta/`, `x` → ''. A partition is a prefix of all its keys, so every key in
 *   [start, end) lives either in a partition that is a '/'-prefix of `start` (at most depth + 1 of
 *   them) or in a partition that itself lies in (start, end). A registry item per partition (partition
 *   key `r`, sort key = the partition) finds the latter in order, and a scan merges the partitions'
 *   sorted Query streams, opening each partition only when the merge reaches its name (nothing in it
 *   sorts lower). A scan under a prefix with ≥ `depth` slashes — every scan the engine makes
 *   (`meta/collection/`, `meta/segment/<id>/`) — is one Query of one partition, no registry.
 *   Tradeoff: all keys of a partition share DynamoDB's per-partition-key throughput (~1,000 writes/s
 *   before adaptive splitting), fine for catalog metadata; a deeper `depth` spreads load but makes
 *   shallow-prefix scans merge more partitions.
 * - Versioned keys (putIfNewer: the PK index, the write-heavy part) are never scanned, only read by key
 *   and removed by prefix/range. They are spread over `buckets` partitions by a hash of the key, so a
 *   collection's PK index is never one hot partition; within a bucket items stay sorted by key, so a
 *   prefix delete is one Query per bucket.
 *
 * Items: `p` (S, partition key), `s` (S, sort key = the KV key itself), `v` (B, the value), `ver`
 * (N, versioned entries only: DynamoDB numbers hold 38 digits, enough for unsigned 64-bit versions).
 */
import { murmur3_32 } from '../../engine/hash.ts';
import { MAX_KV_KEY_BYTES, utf8Length } from '../key-rules.ts';

/** Partition key of the registry of plain partitions. */
export const REGISTRY_PARTITION = 'r';

/** Default number of '/'-separated segments that make a plain key's partition. */
export const DEFAULT_PARTITION_DEPTH = 2;

/** Default number of hash buckets for versioned keys (each bucket is one DynamoDB partition key). */
export const DEFAULT_VERSIONED_BUCKETS = 32;

const encoder = new TextEncoder();

/** The plain partition of `key`: its prefix through the `depth`-th '/' (or its last '/'; '' when none). */
export function partitionOf(key: string, depth: number): string {
  let end = 0;
  for (let i = 0; i < depth; i++) {
    const at = key.indexOf('/', end);
    if (at < 0) break;
    end = at + 1;
  }
  return key.slice(0, end);
}

/** The partitions that are '/'-prefixes of `key` ('' first): where keys sorting at or after `key` may hide below it. */
export function enclosingPartitions(key: string, depth: number): string[] {
  const out = [''];
  let end = 0;
  for (let i = 0; i < depth; i++) {
    const at = key.indexOf('/', end);
    if (at < 0) break;
    end = at + 1;
    out.push(key.slice(0, end));
  }
  return out;
}

/** Whether every key starting with `prefix` lies in one plain partition (the prefix has ≥ depth slashes). */
export function prefixPinsPartition(prefix: string, depth: number): boolean {
  let slashes = 0;
  for (let i = 0; i < prefix.length && slashes < depth; i++) if (prefix.charCodeAt(i) === 0x2f) slashes++;
  return slashes >= depth;
}

/** The DynamoDB partition key value of a plain partition. */
export function plainPartitionKey(partition: string): string {
  return `k:${partition}`;
}

/** The DynamoDB partition key value of the bucket holding versioned `key`. */
export function versionedPartitionKey(key: string, buckets: number): string {
  return versionedBucketKey(murmur3_32(encoder.encode(key)) % buckets);
}

/** The DynamoDB partition key value of versioned bucket number `bucket`. */
export function versionedBucketKey(bucket: number): string {
  return `v:${bucket}`;
}

/**
 * The smallest string greater than every string starting with `prefix` (in code point order, which is
 * UTF-8 byte order), or undefined when there is none (an empty prefix, or one made only of U+10FFFF).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1; // surrogates are not characters
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Whether `bound` can appear in a key condition (sort-key values must be non-empty and at most 1024 bytes). */
export function usableAsKeyBound(bound: string): boolean {
  return bound !== '' && utf8Length(bound) <= MAX_KV_KEY_BYTES;
}
