/**
 * Index building where another process builds the same segments' indexes (the querynode: it cuts
 * the same segments as the datanode under private ids, so the indexer's files fit them). It waits
 * for that file and attaches it (the segment is scanned exactly meanwhile), and builds its own only
 * when none comes in time or the file does not fit.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import { indexParams } from '../index-builder.ts';
import type { FieldSchema, IndexSpec } from '../schema/types.ts';
import type { Segment } from '../segment/segment.ts';
import { LocalIndexScheduler } from './local-index-scheduler.ts';

/** How long it waits for another process's index file before building its own. */
const SHARED_INDEX_WAIT_MS = 10 * 60_000;
/** How often it looks for that file meanwhile. */
const SHARED_INDEX_POLL_MS = 2000;

/** Finds the index file another process built for a segment with the rows of `meta`, if one exists yet. */
export type SharedIndexLookup = (meta: SegmentMeta, field: string) => Promise<string | undefined>;

/** A LocalIndexScheduler that adopts another process's index files first. */
export class SharedIndexAdopter extends LocalIndexScheduler {
  constructor(
    s: CollectionState,
    private readonly lookup: SharedIndexLookup,
  ) {
    super(s);
  }

  /** Adopts the shared file, else builds here. */
  protected override async obtain(seg: Segment, field: FieldSchema, spec: IndexSpec): Promise<void> {
    if (!(await this.adopt(seg, field, spec))) await super.obtain(seg, field, spec);
  }

  /** False when no file came in time or it is unusable: the caller builds one here then. */
  private async adopt(seg: Segment, field: FieldSchema, spec: IndexSpec): Promise<boolean> {
    const s = this.s;
    const { clock, catalog, vectorIndexes } = s.deps;
    const deadline = clock.now() + SHARED_INDEX_WAIT_MS;
    const wanted = () => !s.closed && s.segments.has(seg.id) && seg.resident && !seg.indexes.has(field.name) && s.indexOf(field.name) === spec;
    while (wanted()) {
      const key = await this.lookup(seg.meta, field.name);
      if (key) {
        const file = await s.localFile(key);
        if (!wanted()) return true;
        seg.meta.indexFiles[field.name] = key; // before the view: the vectors need not be read for it
        try {
          seg.indexes.set(field.name, vectorIndexes.view(file, indexParams(field, spec), seg.vectors(field.name).data()));
        } catch (err) {
          delete seg.meta.indexFiles[field.name];
          s.log.warn(`the shared index ${key} does not fit segment ${seg.id}; building one here`, { segment: seg.id, error: err });
          return false;
        }
        await catalog.write([catalog.putSegmentOp(seg.meta)]);
        return true;
      }
      if (clock.now() >= deadline) {
        s.log.warn(`no shared index for segment ${seg.id} field ${field.name} after ${SHARED_INDEX_WAIT_MS / 1000} s; building one here`, { segment: seg.id });
        return false;
      }
      await clock.sleep(SHARED_INDEX_POLL_MS);
    }
    return true; // gone, released or indexed meanwhile: nothing left to do
  }
}
