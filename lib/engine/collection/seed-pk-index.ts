/** Seeding a PK index from loaded segments: a querynode's private index at start, and any process after `migrans repair` cut applied records. */
import type { PkEntry } from '../pk-index.ts';
import type { PrimaryKey } from '../schema/types.ts';
import type { Segment } from '../segment/segment.ts';
import type { CollectionState } from './collection-state.ts';

/**
 * Writes PK-index entries for the live rows of the loaded segments. Where a key is live in
 * several (a delete not yet in a delta log when the segments were read), the newest row wins.
 */
export async function seedPkIndex(s: CollectionState): Promise<void> {
  const latest = new Map<PrimaryKey, { seg: Segment; offset: number; ts: bigint }>();
  for (const seg of s.segments.values()) {
    for (let o = 0; o < seg.rowCount; o++) {
      if (seg.isDeleted(o)) continue;
      const pk = seg.pks[o];
      const seen = latest.get(pk);
      if (seen && seen.ts >= seg.rowTs[o]) {
        seg.markDeleted(o);
        continue;
      }
      if (seen) seen.seg.markDeleted(seen.offset);
      latest.set(pk, { seg, offset: o, ts: seg.rowTs[o] });
    }
  }
  let batch: { pk: PrimaryKey; entry: PkEntry }[] = [];
  for (const [pk, { seg, offset, ts }] of latest) {
    batch.push({ pk, entry: { location: { segmentId: seg.id, offset }, deleted: false, version: ts } });
    if (batch.length === 10_000) {
      await s.pk.write(batch);
      batch = [];
    }
  }
  await s.pk.write(batch);
}
