/**
 * Residency (the serving roles: embedded and querynode): which flushed segments keep their vectors
 * and HNSW indexes in memory. A `keep` policy names this process's share (default: every segment).
 * The others are opened *remote*: keys, timestamps and scalars only, their vector chunks left in the
 * object store, so a querynode's local disk holds its share's vectors, not every segment's. A search
 * whose scope takes one in (another querynode's share falls to this one when that node leaves)
 * fetches its chunks first; a get or query returning its vectors fetches them to disk only. Segments
 * outside the share that no read has needed for a while leave memory, then the local disk too: the
 * cached copies of their chunks and index files are removed and they are remote again. A segment
 * this process sealed itself (a querynode applying the WAL) holds the only local copy of its chunks
 * until the same rows are flushed to the shared store under another id (the datanode's segment, its
 * *twin*): from then on it reads its vectors from the twin's chunks and drops its own.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import { chunkKey } from '../catalog/key-layout.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { IndexScheduler, SegmentSource } from '../roles/collection-role.ts';
import { coldVectorColumn, readSegment } from '../segment/segment-io.ts';
import type { Segment } from '../segment/segment.ts';
import type { SegmentScope } from '../segment-scope.ts';
import { VectorColumn } from '../segment/vector-column.ts';

/** Whether this process keeps a flushed segment in memory. */
export type ResidencyPolicy = (meta: SegmentMeta) => boolean;

/** The flushed shared segment with the same rows as one this process sealed itself, once there is one. */
export type SharedTwinLookup = (meta: SegmentMeta) => Promise<SegmentMeta | undefined>;

/** Opens flushed segments resident or cold per the policy, and moves them between memory and disk. */
export class Residency implements SegmentSource {
  /** Segments being taken into memory. */
  private readonly loading = new Map<number, Promise<void>>();
  /** Segments whose vector chunks were never fetched, and the fetches in flight. */
  private readonly remote = new WeakSet<Segment>();
  private readonly fetching = new WeakMap<Segment, Promise<void>>();
  /** Segments sealed here whose vectors are read from their shared twin's chunks. */
  private readonly twinOf = new WeakMap<Segment, SegmentMeta>();
  private readonly evicting = new Set<number>();

  constructor(
    private readonly s: CollectionState,
    private readonly indexes: IndexScheduler,
    private readonly keep: ResidencyPolicy = () => true,
    private readonly twins?: SharedTwinLookup,
  ) {}

  /** {@inheritDoc SegmentSource.open} */
  async open(meta: SegmentMeta, attach = true): Promise<Segment> {
    const { objects, localFiles } = this.s.deps;
    if (this.keep(meta)) {
      const seg = await readSegment(objects, meta, this.s.info.schema, { files: localFiles });
      if (attach) await this.indexes.attach(seg);
      return seg;
    }
    const seg = await readSegment(objects, meta, this.s.info.schema, { withoutVectors: "vectors not fetched: the segment is outside this process's share" });
    seg.resident = false;
    this.remote.add(seg);
    return seg;
  }

  /** {@inheritDoc SegmentSource.fetchVectors} */
  async fetchVectors(segments: Iterable<Segment>): Promise<void> {
    const now = this.s.deps.clock.now();
    const fetches: Promise<void>[] = [];
    for (const seg of new Set(segments)) {
      seg.lastReadAt = now; // not evicted while the read uses the fetched copy
      if (this.remote.has(seg)) fetches.push(this.fetch(seg));
    }
    await Promise.all(fetches);
  }

  /** {@inheritDoc SegmentSource.hasLocalVectors} */
  hasLocalVectors(seg: Segment): boolean {
    return !this.remote.has(seg);
  }

  /** Fetches a remote segment's vector chunks to local disk and swaps in cold columns over them. */
  private fetch(seg: Segment): Promise<void> {
    let task = this.fetching.get(seg);
    if (task) return task;
    task = (async () => {
      const cold = await this.coldColumns(seg);
      if (!this.remote.has(seg)) {
        for (const c of cold.values()) c.close();
        return;
      }
      seg.swapVectorColumns(cold);
      this.remote.delete(seg);
    })().finally(() => this.fetching.delete(seg));
    this.fetching.set(seg, task);
    return task;
  }

  /** Cold columns over local copies of a segment's vector chunks (fetched when not local yet). */
  private async coldColumns(seg: Segment): Promise<Map<string, VectorColumn>> {
    const cold = new Map<string, VectorColumn>();
    for (const f of this.s.info.schema.fields) {
      if (f.dataType !== 'FloatVector') continue;
      const key = chunkKey(this.twinOf.get(seg) ?? seg.meta, f.fieldId);
      cold.set(f.name, coldVectorColumn(this.s.deps.localFiles, await this.s.localFile(key), key, seg.meta));
    }
    return cold;
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
      } else if (now - seg.lastReadAt >= idleMs && !this.loading.has(seg.id)) {
        if (seg.resident) await this.release(seg);
        if (!seg.resident && !this.remote.has(seg)) await this.evict(seg);
      }
    }
  }

  private load(seg: Segment): Promise<void> {
    let task = this.loading.get(seg.id);
    if (task) return task;
    task = (async () => {
      await this.fetch(seg);
      for (const f of this.s.info.schema.fields) if (f.dataType === 'FloatVector') seg.vectorColumn(f.name).loadInBackground();
      seg.resident = true;
      await this.indexes.attach(seg);
      this.indexes.indexLater(seg);
    })().finally(() => this.loading.delete(seg.id));
    this.loading.set(seg.id, task);
    return task;
  }

  private async release(seg: Segment): Promise<void> {
    const cold = await this.coldColumns(seg);
    // A read, a compaction or a drop may have come in meanwhile.
    if (this.s.closed || !seg.resident || !this.s.segments.has(seg.id) || this.keep(seg.meta) || this.loading.has(seg.id)) {
      for (const c of cold.values()) c.close();
      return;
    }
    seg.release(cold);
  }

  /**
   * Makes a segment outside the share remote again: its vectors unreadable until fetched, the cached
   * copies of its chunks and index files removed. A segment sealed here keeps its own chunks (the
   * only copy) until it has a shared twin, whose chunks it reads from then on.
   */
  private async evict(seg: Segment): Promise<void> {
    if (this.evicting.has(seg.id)) return;
    this.evicting.add(seg.id);
    try {
      const { objects, localFiles } = this.s.deps;
      const fields = this.s.info.schema.fields.filter((f) => f.dataType === 'FloatVector');
      const sealedHere = fields.some((f) => objects.localPath?.(chunkKey(seg.meta, f.fieldId)) !== undefined);
      let twin = this.twinOf.get(seg);
      if (sealedHere && !twin) {
        twin = await this.twins?.(seg.meta);
        if (!twin) return;
      }
      // A read, a compaction or a drop may have come in meanwhile.
      if (this.s.closed || seg.resident || this.remote.has(seg) || !this.s.segments.has(seg.id) || this.keep(seg.meta) || this.loading.has(seg.id) || this.fetching.has(seg))
        return;
      const why = "vectors not fetched: the segment is outside this process's share";
      seg.swapVectorColumns(new Map(fields.map((f) => [f.name, VectorColumn.unavailable(f.dim!, seg.rowCount, `segment ${seg.id} field ${f.name}: ${why}`)])));
      this.remote.add(seg);
      if (twin) this.twinOf.set(seg, twin);
      for (const f of fields) {
        if (sealedHere) await objects.delete(chunkKey(seg.meta, f.fieldId));
        localFiles.remove(chunkKey(twin ?? seg.meta, f.fieldId));
      }
      for (const key of Object.values(seg.meta.indexFiles)) if (objects.localPath?.(key) === undefined) localFiles.remove(key);
    } finally {
      this.evicting.delete(seg.id);
    }
  }
}
