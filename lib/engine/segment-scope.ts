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

/** Primary-key order (bigint or string), the order scoped query results are merged in. */
export function comparePrimaryKeys(a: PrimaryKey, b: PrimaryKey): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
