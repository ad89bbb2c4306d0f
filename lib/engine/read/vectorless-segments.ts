/**
 * Flushed segments opened without vectors or indexes (the datanode and the compactor: they apply
 * writes with keys, timestamps and delete bitmaps only, or plan compactions from row and delete
 * counts), so a cold start reads a fraction of the data and memory does not grow with the
 * collection's vectors. A compaction reads its inputs whole, one at a time.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { SegmentSource } from '../roles/collection-role.ts';
import { readSegment } from '../segment/segment-io.ts';
import type { Segment } from '../segment/segment.ts';

/** Opens segments without vectors; never takes any into memory. */
export class VectorlessSegments implements SegmentSource {
  constructor(private readonly s: CollectionState) {}

  /** {@inheritDoc SegmentSource.open} */
  open(meta: SegmentMeta): Promise<Segment> {
    return readSegment(this.s.deps.objects, meta, this.s.info.schema, { withoutVectors: "opened without its vectors: this process's role never reads them" });
  }

  /** Nothing to take in: these roles never search. */
  async makeResident(): Promise<void> {}

  /** Nothing to fetch: these roles never read vectors. */
  async fetchVectors(): Promise<void> {}

  /** Nothing to move. */
  async applyResidency(): Promise<void> {}

  /** A flushed segment read with its vectors, carrying the deletes `seg` knows of. */
  readonly readWhole = async (seg: Segment): Promise<Segment> => {
    const whole = await readSegment(this.s.deps.objects, seg.meta, this.s.info.schema, { files: this.s.deps.localFiles });
    const deleted: number[] = [];
    for (let o = 0; o < seg.rowCount; o++) if (seg.isDeleted(o)) deleted.push(o);
    whole.applyDeltaLog(deleted);
    return whole;
  };
}
