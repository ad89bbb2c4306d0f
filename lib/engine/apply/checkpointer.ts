/**
 * Checkpoints (the datanode's role): a channel's replay point advances to the oldest record whose
 * effects are not all durable — the start of its oldest unflushed segment, or everything applied
 * when there is none — and the WAL before it is truncated. Deletes on flushed segments are durable
 * already (the applier writes their delta logs). Checkpoints of one channel run one at a time.
 */
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import { OperationTimeoutError } from '../errors.ts';
import type { KvWrite } from '../ports/kv-store.ts';
import type { ChannelShare } from '../roles/collection-role.ts';

/** Advances the replay points of a collection's channels applied here. */
export class Checkpointer {
  private readonly chain = new Map<number, Promise<void>>();

  constructor(
    private readonly s: CollectionState,
    private readonly share: ChannelShare,
  ) {}

  /** Queues a checkpoint of the channel; failures are logged (the next one retries). */
  checkpoint(ch: ChannelState): Promise<void> {
    const prev = this.chain.get(ch.index) ?? Promise.resolve();
    const next = prev.then(() => this.doCheckpoint(ch)).catch((error) => this.s.log.error(`checkpoint of ${ch.name} failed`, { channel: ch.name, error }));
    this.chain.set(ch.index, next);
    return next;
  }

  /** Resolves once every queued checkpoint has run. */
  async drain(): Promise<void> {
    await Promise.all([...this.chain.values()]);
  }

  /**
   * Waits until the channels applied here have applied every record they know of and the flushes
   * and checkpoints that caused are durable (a datanode finishing a batch). Throws a channel's apply
   * error, or a timeout error at `deadline` (ms since the epoch).
   */
  async settle(deadline: number): Promise<void> {
    const { clock } = this.s.deps;
    const wait = async (done: () => boolean, what: string, ch?: ChannelState) => {
      while (!done()) {
        if (ch?.error) throw ch.error;
        if (clock.now() > deadline) throw new OperationTimeoutError(what);
        await Promise.race([ch ? ch.progress() : clock.sleep(50), clock.sleep(50)]);
      }
    };
    const applied = this.s.channels.filter((ch) => this.share.applies(ch.name));
    for (const ch of applied) await wait(() => ch.caughtUp() && !ch.pumping, `applying channel ${ch.name}`, ch);
    await wait(() => this.s.flushTasks.size === 0, `flushing the sealed segments of ${this.s.info.name}`);
    for (const ch of applied) await this.checkpoint(ch);
  }

  private async doCheckpoint(ch: ChannelState): Promise<void> {
    if (this.s.closed || !this.share.applies(ch.name)) return;
    const { catalog, wal } = this.s.deps;
    let position = ch.applied;
    let lastTs = ch.lastTs;
    for (const seg of this.s.segments.values()) {
      if (seg.meta.channel !== ch.index || (seg.meta.state !== 'Growing' && seg.meta.state !== 'Sealed')) continue;
      if (seg.meta.startPosition < position) {
        position = seg.meta.startPosition;
        lastTs = seg.meta.prevTs;
      }
    }
    const ops: KvWrite[] = [catalog.putCheckpointOp(ch.name, { position, lastTs })];
    // Ranges and dropped segments wholly before the checkpoint can no longer be replayed.
    for (const meta of this.s.droppedMetas) {
      if (meta.channel === ch.index && meta.endPosition !== undefined && meta.endPosition <= position) {
        ops.push(catalog.deleteSegmentOp(meta.collectionId, meta.segmentId));
        this.s.droppedMetas.delete(meta);
      }
    }
    await catalog.write(ops);
    const ranges = this.s.durableRanges.get(ch.index);
    if (ranges)
      this.s.durableRanges.set(
        ch.index,
        ranges.filter((r) => r.end > position),
      );
    await wal.truncate(ch.name, position);
  }
}
