/**
 * Residency (the serving roles: embedded and querynode): which flushed segments keep their vectors
 * and HNSW indexes in memory. A `keep` policy names this process's share (default: every segment);
 * the others are opened cold (vectors on local disk, no index attached) until a search's scope takes
 * them in, and go back to disk when no read has needed them for a while. This is how another
 * querynode's share falls to a querynode when that node leaves.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import { chunkKey } from '../catalog/key-layout.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { IndexScheduler, SegmentSource } from '../roles/collection-role.ts';
import { coldVectorColumn, readSegment } from '../segment/segment-io.ts';
import type { Segment } from '../segment/segment.ts';
import type { SegmentScope } from '../segment-scope.ts';
import type { VectorColumn } from '../segment/vector-column.ts';

/** Whether this process keeps a flushed segment in memory. */
export type ResidencyPolicy = (meta: SegmentMeta) => boolean;

/** Opens flushed segments resident or cold per the policy, and moves them between memory and disk. */
export class Residency implements SegmentSource {
  /** Segments being taken into memory. */
  private readonly loading = new Map<number, Promise<void>>();

  constructor(
    private readonly s: CollectionState,
    private readonly indexes: IndexScheduler,
    private readonly keep: ResidencyPolicy = () => true,
  ) {}

  /** {@inheritDoc SegmentSource.open} */
  async open(meta: SegmentMeta, attach = true): Promise<Segment> {
    const { objects, localFiles } = this.s.deps;
    if (this.keep(meta)) {
      const seg = await readSegment(objects, meta, this.s.info.schema, { files: localFiles });
      if (attach) await this.indexes.attach(seg);
      return seg;
    }
    const seg = await readSegment(objects, meta, this.s.info.schema, { files: localFiles, coldVectors: (key) => this.s.localFile(key) });
    seg.resident = false;
    return seg;
  }

  /**
   * Takes the flushed segments a search needs (those in `scope`, or all) into memory: starts
   * reading their vectors and attaches their index files, or builds the missing ones (searches scan
   * a segment exactly meanwhile).
   */
  async makeResident(scope?: SegmentScope): Promise<void> {
    const now = this.s.deps.clock.now();
    const loads: Promise<void>[] = [];
    for (const seg of this.s.segments.values()) {
      if (scope && !scope(seg.meta)) continue;
      seg.lastReadAt = now;
      if (!seg.resident) loads.push(this.load(seg));
    }
    await Promise.all(loads);
  }

  /**
   * Brings memory in line with the policy: flushed segments that turned resident are taken in;
   * those that no longer are, and that no read has needed for `idleMs`, go back to disk.
   */
  async applyResidency(idleMs: number, now: number): Promise<void> {
    for (const seg of [...this.s.segments.values()]) {
      if (seg.meta.state !== 'Flushed' || this.s.compacting.has(seg.id)) continue;
      if (this.keep(seg.meta)) {
        if (!seg.resident) await this.load(seg);
      } else if (seg.resident && now - seg.lastReadAt >= idleMs && !this.loading.has(seg.id)) {
        await this.release(seg);
      }
    }
  }

  private load(seg: Segment): Promise<void> {
    let task = this.loading.get(seg.id);
    if (task) return task;
    task = (async () => {
      for (const f of this.s.info.schema.fields) if (f.dataType === 'FloatVector') seg.vectorColumn(f.name).loadInBackground();
      seg.resident = true;
      await this.indexes.attach(seg);
      this.indexes.indexLater(seg);
    })().finally(() => this.loading.delete(seg.id));
    this.loading.set(seg.id, task);
    return task;
  }

  private async release(seg: Segment): Promise<void> {
    const cold = new Map<string, VectorColumn>();
    for (const f of this.s.info.schema.fields) {
      if (f.dataType !== 'FloatVector') continue;
      const key = chunkKey(seg.meta, f.fieldId);
      cold.set(f.name, coldVectorColumn(this.s.deps.localFiles, await this.s.localFile(key), key, seg.meta));
    }
    // A read, a compaction or a drop may have come in meanwhile.
    if (this.s.closed || !seg.resident || !this.s.segments.has(seg.id) || this.keep(seg.meta) || this.loading.has(seg.id)) {
      for (const c of cold.values()) c.close();
      return;
    }
    seg.release(cold);
  }
}
