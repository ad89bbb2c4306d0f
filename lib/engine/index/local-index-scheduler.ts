/**
 * Index building in this process (the embedded deployment's and the querynode's indexnode role):
 * flushed resident segments get their HNSW indexes built one build at a time across collections,
 * attached as views over the index files; a segment outside the share is indexed if a read ever
 * takes it in. A build whose spec changed meanwhile, or whose segment went, is discarded.
 */
import type { CollectionState } from '../collection/collection-state.ts';
import { buildIndexFile, hnswSpec, indexParams } from '../index-builder.ts';
import type { KvWrite } from '../ports/kv-store.ts';
import type { IndexScheduler } from '../roles/collection-role.ts';
import type { FieldSchema, IndexSpec } from '../schema/types.ts';
import type { Segment } from '../segment/segment.ts';
import { attachIndexFiles } from './attach-index-files.ts';

/** Builds and attaches a collection's indexes in this process. */
export class LocalIndexScheduler implements IndexScheduler {
  constructor(protected readonly s: CollectionState) {}

  /** {@inheritDoc IndexScheduler.attach} */
  attach(seg: Segment): Promise<void> {
    return attachIndexFiles(this.s, seg);
  }

  /** Queues HNSW builds for the segment's vector fields that have an index spec and no index yet. */
  indexLater(seg: Segment): void {
    if (!seg.resident) return; // built if a read ever takes the segment in
    for (const field of this.s.info.schema.fields) {
      const spec = hnswSpec(this.s.info, field);
      if (!spec || seg.indexes.has(field.name)) continue;
      this.obtain(seg, field, spec).catch((error) =>
        this.s.log.error(`building the index of segment ${seg.id} field ${field.name} failed (searches scan it exactly)`, { segment: seg.id, error }),
      );
    }
  }

  /** Gets one field of a segment indexed: here, a build on the shared queue. */
  protected obtain(seg: Segment, field: FieldSchema, spec: IndexSpec): Promise<void> {
    return this.s.deps.indexQueue.run(() => this.build(seg, field, spec));
  }

  /** {@inheritDoc IndexScheduler.resetIndexes} */
  async resetIndexes(fieldName: string): Promise<void> {
    const { catalog, objects } = this.s.deps;
    const ops: KvWrite[] = [];
    for (const seg of this.s.segments.values()) {
      const idx = seg.indexes.get(fieldName);
      if (idx) {
        seg.indexes.delete(fieldName);
        idx.close();
      }
      const key = seg.meta.indexFiles[fieldName];
      if (key) {
        delete seg.meta.indexFiles[fieldName];
        ops.push(catalog.putSegmentOp(seg.meta));
        await objects.delete(key);
      }
      if (seg.meta.state === 'Flushed') this.indexLater(seg);
    }
    await catalog.write(ops);
  }

  /** Built indexes here follow the new spec: the old ones are dropped and rebuilt. */
  specChangedElsewhere(fieldName: string): Promise<void> {
    return this.resetIndexes(fieldName);
  }

  private async build(seg: Segment, field: FieldSchema, spec: IndexSpec): Promise<void> {
    const s = this.s;
    if (s.closed || !s.segments.has(seg.id) || seg.indexes.has(field.name) || s.indexOf(field.name) !== spec) return;
    const params = indexParams(field, spec);
    // The spec may change (or the segment go) during the build: the result is discarded then.
    const stale = () => s.closed || !s.segments.has(seg.id) || s.indexOf(field.name) !== spec;
    const key = await buildIndexFile(s.deps, seg, field, params, stale);
    if (!key) return;
    seg.meta.indexFiles[field.name] = key;
    await s.deps.catalog.write([s.deps.catalog.putSegmentOp(seg.meta)]);
    const file = await s.localFile(key);
    // Released during the build: the file is attached when a read takes the segment in again.
    if (!s.closed && seg.meta.state !== 'Dropped' && seg.resident && !seg.indexes.has(field.name))
      seg.indexes.set(field.name, s.deps.vectorIndexes.view(file, params, seg.vectors(field.name).data()));
  }
}
