/**
 * Sealing and flushing (the datanode's role): a sealed segment is written to the object store in
 * the background, retried with backoff until it is durable, then marked Flushed in the catalog,
 * handed to the index scheduler and followed by a checkpoint. Idle growing segments are sealed by
 * a flush record, so that every process applying the channel seals them at the same position.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { IndexScheduler } from '../roles/collection-role.ts';
import { writeDeltaLog, writeSegmentChunks } from '../segment/segment-io.ts';
import type { Segment } from '../segment/segment.ts';
import type { ChannelWriter } from '../write/channel-writer.ts';
import type { Checkpointer } from './checkpointer.ts';

/** Seals and flushes a collection's segments. */
export class Flusher {
  constructor(
    private readonly s: CollectionState,
    private readonly writer: ChannelWriter,
    private readonly indexes: IndexScheduler,
    private readonly checkpointer: Checkpointer,
  ) {}

  /** Seals a growing segment at `endPosition` and starts its flush (an empty one is dropped). */
  seal(ch: ChannelState, seg: Segment, endPosition: bigint): void {
    ch.growing.delete(seg.meta.partition);
    this.s.unflushedByStart.delete(`${ch.index}/${seg.meta.startPosition}`);
    if (seg.rowCount === 0) {
      this.s.deps.memory?.released(seg);
      this.s.segments.delete(seg.id);
      return;
    }
    this.s.deps.memory?.sealedSegment(seg);
    seg.meta.state = 'Sealed';
    seg.meta.endPosition = endPosition;
    this.scheduleFlush(ch, seg, 0);
  }

  /** Seals growing segments that have been idle longer than the configured time. */
  sealIdle(now = this.s.deps.clock.now()): void {
    const idle = this.s.channels.filter((ch) => ch.growing.size > 0 && !ch.unavailable && !ch.flushPending && now - ch.lastInsertAt >= this.s.config.idleSealMs);
    if (idle.length > 0) this.writer.appendFlushRecords(idle).catch((error) => this.s.log.error('idle seal failed', { error }));
  }

  /** Flushes a sealed segment in the background, retrying with backoff until it succeeds or the collection closes. */
  private scheduleFlush(ch: ChannelState, seg: Segment, attempt: number): void {
    const task = this.s.deps.clock
      .sleep(attempt === 0 ? 0 : Math.min(30_000, 100 * 2 ** attempt))
      .then(() => this.flushSegment(ch, seg))
      .catch((err) => {
        if (this.s.closed) return;
        this.s.log.warn(`flushing segment ${seg.id} failed (attempt ${attempt + 1}; its rows stay in the WAL, retrying)`, { channel: ch.name, segment: seg.id, error: err });
        this.scheduleFlush(ch, seg, attempt + 1);
      })
      .finally(() => {
        if (this.s.flushTasks.get(seg.id) === task) this.s.flushTasks.delete(seg.id);
      });
    this.s.flushTasks.set(seg.id, task);
  }

  private async flushSegment(ch: ChannelState, seg: Segment): Promise<void> {
    const { catalog, objects, memory } = this.s.deps;
    if (this.s.closed || !this.s.segments.has(seg.id)) return memory?.released(seg);
    await catalog.write([catalog.putSegmentOp(seg.meta)]);
    await writeSegmentChunks(objects, seg, this.s.info.schema);
    if (this.s.closed) return;
    // From here on the segment's WAL range is skipped on replay, so its deletes must be durable:
    // those made so far go into one delta log, later ones are written by the applier.
    await this.s.lock.write(async () => {
      seg.syncDeletes = true;
      await writeDeltaLog(objects, seg, 0n);
    });
    // The in-memory state turns Flushed only once the catalog says so: checkpoints trust it.
    const flushed: SegmentMeta = { ...seg.meta, state: 'Flushed', rowCount: seg.rowCount };
    await catalog.write([catalog.putSegmentOp(flushed)]);
    seg.meta.state = 'Flushed';
    seg.meta.rowCount = seg.rowCount;
    memory?.released(seg);
    this.s.addDurableRange(seg.meta);
    this.indexes.indexLater(seg); // requested before the checkpoint: a flush that waits on checkpoints finds it requested
    await this.checkpointer.checkpoint(ch);
  }
}
