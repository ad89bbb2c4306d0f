/**
 * Index building by the indexer (the AWS roles that do not serve searches: proxy, datanode,
 * compactor): a flushed segment lacking an index is handed to the indexer, which builds it from the
 * shared store; resetting a field's indexes works on the catalog, not on loaded segments.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import { hnswSpec } from '../index-builder.ts';
import type { IndexScheduler } from '../roles/collection-role.ts';
import type { Segment } from '../segment/segment.ts';

/** Hands a flushed segment to the indexer. */
export type IndexSegment = (meta: SegmentMeta) => void;

/** Requests indexes from the indexer. */
export class IndexerHandoff implements IndexScheduler {
  constructor(
    private readonly s: CollectionState,
    private readonly indexSegment: IndexSegment,
  ) {}

  /** Nothing to attach: these roles never search. */
  async attach(): Promise<void> {}

  /** Hands the segment over when it lacks an index. */
  indexLater(seg: Segment): void {
    if (seg.resident && this.needsIndex(seg.meta)) this.indexSegment(seg.meta);
  }

  /** Drops the field's index files from the catalog and hands every flushed segment over again. */
  async resetIndexes(fieldName: string): Promise<void> {
    const { catalog, objects } = this.s.deps;
    for (const meta of await catalog.listSegments(this.s.info.collectionId)) {
      if (meta.state !== 'Flushed') continue;
      const key = meta.indexFiles[fieldName];
      if (key) {
        delete meta.indexFiles[fieldName];
        await catalog.write([catalog.putSegmentOp(meta)]);
        await objects.delete(key);
      }
      if (this.needsIndex(meta)) this.indexSegment(meta);
    }
  }

  /** Nothing to do: the process that changed the spec reset the catalog and handed the segments over. */
  async specChangedElsewhere(): Promise<void> {}

  /** Whether a segment lacks the index of a vector field that has an HNSW spec. */
  private needsIndex(meta: SegmentMeta): boolean {
    return this.s.info.schema.fields.some((f) => hnswSpec(this.s.info, f) && !meta.indexFiles[f.name]);
  }
}
