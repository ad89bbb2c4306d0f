/**
 * Committing a compaction (the datanode's role, when it applies the compaction record): the
 * output segment takes the inputs' live rows — rows deleted since the compactor's snapshot stay
 * deleted — the PK index moves to it, the catalog swaps inputs for output in one write, and the
 * inputs' objects go. Replaying the record after a crash finds it committed and does nothing.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import { segmentObjectPrefixes } from '../catalog/key-layout.ts';
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { WalRecordBody } from '../codec/wal-record-codec.ts';
import type { PkEntry } from '../pk-index.ts';
import type { KvWrite } from '../ports/kv-store.ts';
import type { IndexScheduler, SegmentSource } from '../roles/collection-role.ts';
import type { PrimaryKey } from '../schema/types.ts';
import { writeDeltaLog } from '../segment/segment-io.ts';
import type { Segment } from '../segment/segment.ts';
import { segmentPlacementKey } from '../segment-scope.ts';

/** A compaction record's body. */
export type CompactRecord = Extract<WalRecordBody, { kind: 'compact' }>;

/** Commits compaction records of a collection. */
export class CompactionCommit {
  /** Compaction outputs this process built in memory, waiting for their commit record. */
  readonly pendingOutputs = new Map<number, Segment>();

  constructor(
    private readonly s: CollectionState,
    private readonly segments: SegmentSource,
    private readonly indexes: IndexScheduler,
  ) {}

  /** Applies a compaction record at effective timestamp `ts`. */
  async commit(ch: ChannelState, ts: bigint, body: CompactRecord): Promise<void> {
    const s = this.s;
    const { catalog, objects } = s.deps;
    if (s.segments.has(body.outputSegmentId)) return; // committed before a restart
    const inputs = body.inputs.map((i) => s.segments.get(i.segmentId) ?? this.sealedSegmentAt((i as { placementKey?: string }).placementKey));
    if (inputs.every((seg) => !seg)) return; // committed before a restart (its output had no rows)
    if (inputs.some((seg) => !seg)) {
      s.log.warn(`compaction into segment ${body.outputSegmentId} skipped: an input segment is gone`, { channel: ch.name, segment: body.outputSegmentId });
      return;
    }
    const outMeta: SegmentMeta = {
      segmentId: body.outputSegmentId,
      collectionId: s.info.collectionId,
      partition: body.partition,
      channel: ch.index,
      state: 'Flushed',
      startPosition: 0n,
      prevTs: 0n,
      rowCount: inputs.reduce((n, seg, i) => n + seg!.rowCount - body.inputs[i].skipped.length, 0),
      sealRows: s.config.sealRows,
      sealBytes: s.config.sealBytes,
      indexFiles: {},
      compactedFrom: body.inputs.map((i) => i.segmentId),
    };
    const out = this.pendingOutputs.get(body.outputSegmentId) ?? (await this.segments.open(outMeta, false));
    const writes: { pk: PrimaryKey; entry: PkEntry }[] = [];
    let next = 0;
    for (let i = 0; i < inputs.length; i++) {
      const seg = inputs[i]!;
      const skipped = new Set(body.inputs[i].skipped);
      for (let o = 0; o < seg.rowCount; o++) {
        if (skipped.has(o)) continue;
        const offset = next++;
        // Rows deleted since the snapshot stay deleted in the output; live ones move their PK entry.
        if (seg.isDeleted(o)) out.markDeleted(offset);
        else writes.push({ pk: seg.pks[o], entry: { location: { segmentId: out.id, offset }, deleted: false, version: ts } });
      }
    }
    await writeDeltaLog(objects, out, ts);
    out.syncDeletes = true;
    await s.pk.write(writes);
    // In-memory states change only after the catalog commit: a failed commit is retried, and
    // checkpoints meanwhile must still see the inputs as flushed.
    // An output with no rows is not kept. Inputs that hold a WAL range keep a Dropped meta until
    // no replay can reach the range; earlier compaction outputs hold none and go at once.
    const keepOutput = out.rowCount > 0;
    const ops: KvWrite[] = keepOutput ? [catalog.putSegmentOp({ ...out.meta, state: 'Flushed' })] : [];
    for (const seg of inputs) {
      const m = seg!.meta;
      ops.push(m.endPosition !== undefined ? catalog.putSegmentOp({ ...m, state: 'Dropped' }) : catalog.deleteSegmentOp(m.collectionId, m.segmentId));
    }
    await catalog.write(ops);
    out.meta.state = 'Flushed';
    if (keepOutput) s.segments.set(out.id, out);
    for (const seg of inputs) {
      seg!.meta.state = 'Dropped';
      s.segments.delete(seg!.id);
      if (seg!.meta.endPosition !== undefined) s.droppedMetas.add(seg!.meta);
      seg!.close();
    }
    if (keepOutput) this.indexes.indexLater(out);
    else await this.deleteSegmentObjects(out.meta);
    for (const seg of inputs) await this.deleteSegmentObjects(seg!.meta);
  }

  /** Deletes a dropped segment's objects and this process's cached copies of them. */
  private async deleteSegmentObjects(meta: SegmentMeta): Promise<void> {
    const { objects, localFiles } = this.s.deps;
    // Adopted index files are cached under the key of the segment that owns them, not this one's.
    for (const key of Object.values(meta.indexFiles)) localFiles.remove(key);
    for (const prefix of segmentObjectPrefixes(meta)) {
      await objects.deletePrefix(prefix);
      localFiles.remove(prefix);
    }
  }

  /**
   * The sealed or flushed segment with this placement key, if any: processes that sealed an input
   * themselves know it under another id (a querynode's private ids).
   */
  private sealedSegmentAt(placementKey: string | undefined): Segment | undefined {
    if (placementKey === undefined) return undefined;
    for (const seg of this.s.segments.values()) {
      if (seg.meta.state !== 'Growing' && segmentPlacementKey(seg.meta) === placementKey) return seg;
    }
    return undefined;
  }
}
