/** Attaching a resident segment's built index files as index views: the one step every process that serves searches shares. */
import type { CollectionState } from '../collection/collection-state.ts';
import { indexParams } from '../index-builder.ts';
import type { Segment } from '../segment/segment.ts';

/** Attaches the index files named in a resident segment's metadata; an unusable one is dropped from it, to be rebuilt (searches scan meanwhile). */
export async function attachIndexFiles(s: CollectionState, seg: Segment): Promise<void> {
  for (const [fieldName, key] of Object.entries(seg.meta.indexFiles)) {
    const field = s.info.schema.fields.find((f) => f.name === fieldName);
    const spec = s.indexOf(fieldName);
    if (!field || !spec || spec.indexType === 'FLAT') continue;
    try {
      const file = await s.localFile(key);
      if (s.closed || seg.meta.state === 'Dropped' || !seg.resident || seg.indexes.has(fieldName)) continue; // compacted away or released meanwhile
      seg.indexes.set(fieldName, s.deps.vectorIndexes.view(file, indexParams(field, spec), seg.vectors(fieldName).data()));
    } catch (err) {
      s.log.warn(`index ${key} of segment ${seg.id} is unusable, rebuilding it`, { segment: seg.id, error: err });
      delete seg.meta.indexFiles[fieldName];
    }
  }
}
