/**
 * Applies one WAL record to a collection's state (the datanode's sequencing point for every key of
 * its channel): inserts go into the channel's growing segment with PK-index entries that supersede
 * older rows, deletes mark rows and write delta logs for flushed segments, flush records seal, and
 * compaction records are committed by the compaction commit.
 *
 * Crash safety: WAL records are the truth until a checkpoint. Applying a record is deterministic
 * given the catalog (segment ids are looked up by the WAL position that opened the segment) and
 * idempotent (PK-index entries are versioned by timestamp and remember the rows they superseded),
 * so replaying records after a restart rebuilds exactly the state before the crash. A failed apply
 * is undone in memory, so that a retry starts clean.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { WalRecordBody } from '../codec/wal-record-codec.ts';
import type { CompactionCommit } from '../compaction/compaction-commit.ts';
import type { PkEntry, RowLocation } from '../pk-index.ts';
import type { InsertBatch } from '../schema/batch.ts';
import type { CollectionInfo, PrimaryKey } from '../schema/types.ts';
import { writeDeltaLog } from '../segment/segment-io.ts';
import { Segment } from '../segment/segment.ts';
import type { ChannelWriter } from '../write/channel-writer.ts';
import type { Flusher } from './flusher.ts';

/** Bytes one row takes in memory, roughly (for size-based sealing). */
function rowBytes(info: CollectionInfo): number {
  let n = 16;
  for (const f of info.schema.fields) n += f.dataType === 'FloatVector' ? 4 * f.dim! : 16;
  return n;
}

/** Applies a collection's WAL records, one at a time under the collection's write lock. */
export class RecordApplier {
  private readonly bytesPerRow: number;
  /** Rows the record being applied marked deleted in existing segments (undone if the apply fails). */
  private undo: { seg: Segment; offset: number }[] = [];
  /** Flushed segments the record being applied deleted rows from. */
  private readonly touched = new Set<Segment>();

  constructor(
    private readonly s: CollectionState,
    private readonly flusher: Flusher,
    private readonly compaction: CompactionCommit,
    private readonly writer: ChannelWriter,
  ) {
    this.bytesPerRow = rowBytes(s.info);
  }

  /** Applies one record; on failure, in-memory changes are undone so that a retry starts clean. */
  async apply(ch: ChannelState, position: bigint, body: WalRecordBody): Promise<void> {
    const ts = body.ts > ch.lastTs ? body.ts : ch.lastTs + 1n;
    const growingRows = new Map([...ch.growing.values()].map((seg) => [seg, seg.rowCount]));
    this.undo = [];
    this.touched.clear();
    try {
      if (body.kind === 'insert') await this.applyInsert(ch, position, ts, body.partition, body.batch);
      else if (body.kind === 'delete') await this.applyDelete(ts, body.partition, body.pks);
      else if (body.kind === 'compact') await this.compaction.commit(ch, ts, body);
      else {
        ch.flushPending = false;
        for (const seg of [...ch.growing.values()]) this.flusher.seal(ch, seg, position + 1n);
      }
    } catch (err) {
      for (const { seg, offset } of this.undo.reverse()) seg.unmarkDeleted(offset);
      for (const seg of ch.growing.values()) seg.truncate(growingRows.get(seg) ?? 0);
      throw err;
    } finally {
      this.undo = [];
    }
    ch.applied = position + 1n;
    ch.lastTs = ts;
  }

  private async growingSegment(ch: ChannelState, partition: string, position: bigint): Promise<Segment> {
    const existing = ch.growing.get(partition);
    if (existing) return existing;
    const { catalog } = this.s.deps;
    const reuse = this.s.unflushedByStart.get(`${ch.index}/${position}`);
    let meta: SegmentMeta;
    if (reuse) {
      meta = { ...reuse, state: 'Growing', rowCount: 0 };
    } else {
      meta = {
        segmentId: await catalog.allocateId(),
        collectionId: this.s.info.collectionId,
        partition,
        channel: ch.index,
        state: 'Growing',
        startPosition: position,
        prevTs: ch.lastTs,
        rowCount: 0,
        sealRows: this.s.config.sealRows,
        sealBytes: this.s.config.sealBytes,
        indexFiles: {},
      };
      await catalog.write([catalog.putSegmentOp(meta)]);
    }
    const seg = Segment.growing(meta, this.s.info.schema);
    this.s.segments.set(meta.segmentId, seg);
    ch.growing.set(partition, seg);
    return seg;
  }

  private markDeleted(loc: RowLocation | undefined): void {
    if (!loc) return;
    const seg = this.s.segments.get(loc.segmentId);
    if (!seg?.markDeleted(loc.offset)) return;
    this.undo.push({ seg, offset: loc.offset });
    if (seg.syncDeletes) this.touched.add(seg);
  }

  /**
   * Writes delta logs for the deletes this mutation made on flushed segments. It runs before the
   * mutation's PK-index entries are written: a replay after a crash re-derives every delete on
   * rows it replays, but flushed rows are not replayed.
   */
  private async persistTouched(ts: bigint): Promise<void> {
    if (this.touched.size === 0) return;
    const segs = [...this.touched];
    this.touched.clear();
    await Promise.all(segs.map((seg) => writeDeltaLog(this.s.deps.objects, seg, ts)));
  }

  /** Whether a record's rows are already in a flushed segment (replay after a restart skips them). */
  private isDurable(ch: ChannelState, partition: string, position: bigint): boolean {
    const list = this.s.durableRanges.get(ch.index);
    return !!list && list.some((r) => r.partition === partition && r.start <= position && position < r.end);
  }

  private async applyInsert(ch: ChannelState, position: bigint, ts: bigint, partition: string, batch: InsertBatch): Promise<void> {
    if (this.isDurable(ch, partition, position)) return;
    const pks = batch.columns.get(this.s.pkField().name) as PrimaryKey[];
    const seg = await this.growingSegment(ch, partition, position);
    const entries = await this.s.pk.lookup(pks);
    const writes: { pk: PrimaryKey; entry: PkEntry }[] = [];
    const columns = this.s.info.schema.fields.map((f) => batch.columns.get(f.name)!);
    // Within one batch the last occurrence of a key wins: earlier ones are appended already deleted.
    const lastIndex = new Map<PrimaryKey, number>();
    for (let i = 0; i < pks.length; i++) lastIndex.set(pks[i], i);
    for (let row = 0; row < pks.length; row++) {
      const pk = pks[row];
      const e = entries[row];
      const offset = seg.append(pk, ts, columns, row, batch.dynamic ? batch.dynamic[row] : null);
      if (lastIndex.get(pk) !== row || (e && e.version > ts)) {
        seg.markDeleted(offset); // superseded later in this batch or by a newer record (replay)
      } else if (e && e.version === ts) {
        this.markDeleted(e.prev); // replay of this very row: re-apply the delete it caused
      } else {
        const prev = e && !e.deleted ? e.location : undefined;
        this.markDeleted(prev);
        writes.push({ pk, entry: { location: { segmentId: seg.id, offset }, prev, deleted: false, version: ts } });
      }
    }
    seg.meta.rowCount = seg.rowCount;
    ch.lastInsertAt = this.s.deps.clock.now();
    await this.persistTouched(ts);
    await this.s.pk.write(writes);
    this.s.deps.memory?.grew(ch.name, ts, seg, seg.rowCount * this.bytesPerRow, () => this.writer.appendFlushRecords([ch]));
    const end = seg.meta.endPosition;
    if (end !== undefined ? position + 1n >= end : seg.rowCount >= seg.meta.sealRows || seg.rowCount * this.bytesPerRow >= seg.meta.sealBytes) {
      this.flusher.seal(ch, seg, position + 1n);
    }
  }

  private async applyDelete(ts: bigint, partition: string, pks: PrimaryKey[]): Promise<void> {
    const entries = await this.s.pk.lookup(pks);
    const writes: { pk: PrimaryKey; entry: PkEntry }[] = [];
    for (let i = 0; i < pks.length; i++) {
      const e = entries[i];
      if (!e || e.version > ts) continue;
      if (e.version === ts) {
        if (e.deleted) this.markDeleted(e.location); // replay
        continue;
      }
      if (e.deleted || !e.location) continue;
      const seg = this.s.segments.get(e.location.segmentId);
      if (partition && seg && seg.meta.partition !== partition) continue;
      this.markDeleted(e.location);
      writes.push({ pk: pks[i], entry: { location: e.location, deleted: true, version: ts } });
    }
    await this.persistTouched(ts);
    await this.s.pk.write(writes);
  }
}
