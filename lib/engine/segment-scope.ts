/**
 * A read scope: which segments a scoped read serves. A querynode fleet splits one read among its
 * nodes by segment; each node serves the segments its scope accepts, and the reader reduces the
 * partial answers. The engine only applies the predicate; who owns what is decided elsewhere.
 */
import type { SegmentMeta } from './catalog/catalog.ts';
import type { PrimaryKey } from './schema/types.ts';

/** Accepts the segments a scoped read serves. */
export type SegmentScope = (meta: SegmentMeta) => boolean;

/**
 * A segment's name that is the same in every process applying the collection's WAL (segment ids
 * are not: a querynode allocates private ids for the segments it seals itself). Segments made by
 * applying inserts are named by where they start in their channel (seal points follow from the
 * WAL, so every process cuts the same segments); compaction outputs by the id the compactor
 * allocated, which the compact WAL record carries to every process.
 */
export function segmentPlacementKey(meta: SegmentMeta): string {
  if (meta.compactedFrom !== undefined) return `${meta.channel}/compacted/${meta.segmentId}`;
  return `${meta.channel}/${meta.partition}/${meta.startPosition}`;
}

/**
 * Primary-key order, the order of query results and of merged scoped ones: Int64 keys as
 * integers, VarChar keys by their UTF-8 bytes, as Milvus compares them (JavaScript's `<` compares
 * UTF-16 units, which puts U+E000–U+FFFF after astral characters; code-point order is byte order).
 */
export function comparePrimaryKeys(a: PrimaryKey, b: PrimaryKey): number {
  if (typeof a !== 'string' || typeof b !== 'string') return a < b ? -1 : a > b ? 1 : 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Differing units at or above U+D800: surrogates (astral code points) sort after U+E000–U+FFFF.
    if (x >= 0xd800 && y >= 0xd800) return (x < 0xe000 ? x + 0x2000 : x - 0x800) - (y < 0xe000 ? y + 0x2000 : y - 0x800);
    return x - y;
  }
  return a.length - b.length;
}
