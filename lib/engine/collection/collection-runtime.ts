/**
 * One open collection in one process: its state and the components its role composes over it —
 * the channel writer, the apply side (pump, record applier, flusher, checkpointer), visibility, the
 * role's segment source (residency) and index scheduler, and compaction. This file wires them and
 * runs the opening sequence (load flushed segments, replay each applied channel from its
 * checkpoint); each behaviour lives in its component.
 */
import { pkRebuildKey } from '../catalog/key-layout.ts';
import type { SegmentMeta } from '../catalog/catalog.ts';
import { channelName, type ChannelState } from '../channel-state.ts';
import { ChannelPump } from '../apply/channel-pump.ts';
import { Checkpointer } from '../apply/checkpointer.ts';
import { Flusher } from '../apply/flusher.ts';
import { RecordApplier } from '../apply/record-applier.ts';
import { CompactionCommit } from '../compaction/compaction-commit.ts';
import { CompactionRunner, type CompactionBudget } from '../compaction/compaction-runner.ts';
import { ChannelUnavailableError, FlushTimeoutError, WalBehindCheckpointError } from '../errors.ts';
import { Visibility } from '../read/visibility.ts';
import type { CollectionRole, RoleComponents } from '../roles/collection-role.ts';
import type { InsertBatch } from '../schema/batch.ts';
import type { CollectionInfo, PrimaryKey } from '../schema/types.ts';
import type { SegmentScope } from '../segment-scope.ts';
import type { Segment } from '../segment/segment.ts';
import { ChannelWriter } from '../write/channel-writer.ts';
import { CollectionState, type RuntimeDeps } from './collection-state.ts';
import { seedPkIndex } from './seed-pk-index.ts';

/** A collection's state and the components acting on it in this process. */
export class CollectionRuntime {
  readonly state: CollectionState;
  readonly writer: ChannelWriter;
  readonly visibility: Visibility;
  readonly role: RoleComponents;
  private readonly pump: ChannelPump;
  private readonly checkpointer: Checkpointer;
  private readonly flusher: Flusher;
  private readonly compaction: CompactionRunner;

  private constructor(info: CollectionInfo, deps: RuntimeDeps, role: CollectionRole) {
    const s = (this.state = new CollectionState(info, deps));
    this.role = role(s);
    const { share, segments, indexes } = this.role;
    this.writer = new ChannelWriter(s, (ch) => this.pump.kick(ch));
    this.visibility = new Visibility(s, share);
    this.checkpointer = new Checkpointer(s, share);
    this.flusher = new Flusher(s, this.writer, indexes, this.checkpointer);
    const commit = new CompactionCommit(s, segments, indexes);
    this.pump = new ChannelPump(s, share, new RecordApplier(s, this.flusher, commit, this.writer));
    this.compaction = new CompactionRunner(s, share, segments, this.writer, this.visibility, commit);
  }

  /** Opens a collection: loads flushed segments, then replays each applied channel from its checkpoint. */
  static async open(info: CollectionInfo, deps: RuntimeDeps, role: CollectionRole): Promise<CollectionRuntime> {
    const rt = new CollectionRuntime(info, deps, role);
    try {
      await rt.load();
    } catch (err) {
      await rt.close().catch(() => undefined); // stops replay already started and frees the segments read so far
      throw err;
    }
    return rt;
  }

  private async load(): Promise<void> {
    const s = this.state;
    const { catalog, wal } = s.deps;
    const { share, segments, indexes } = this.role;
    const metas = await catalog.listSegments(s.info.collectionId);
    for (const meta of metas) {
      if (!share.loads(channelName(s.info.collectionId, meta.channel))) continue;
      if ((meta.state === 'Flushed' || meta.state === 'Dropped') && meta.endPosition !== undefined) s.addDurableRange(meta);
      if (meta.state === 'Dropped') s.droppedMetas.add(meta);
      else if (meta.state === 'Flushed') s.segments.set(meta.segmentId, await segments.open(meta));
      else s.unflushedByStart.set(`${meta.channel}/${meta.startPosition}`, meta);
    }
    if (this.role.beforeReplay) await this.role.beforeReplay();
    // After `migrans repair` cut applied records, PK entries may point at rows no replay rebuilds: start over from the segments.
    const rebuildPk = !this.role.beforeReplay && (await catalog.kv.get(pkRebuildKey(s.info.collectionId))) !== undefined;
    if (rebuildPk) {
      await s.pk.drop();
      await seedPkIndex(s);
    }
    for (const ch of s.channels) {
      if (!share.applies(ch.name)) continue;
      const cp = await catalog.getCheckpoint(ch.name);
      ch.applied = cp.position;
      ch.lastTs = cp.lastTs;
      // A WAL that is damaged or ends before a position the catalog relies on fails the open: the
      // collection is then refused as damaged (EngineDatabase), never acknowledging writes it could not apply.
      ch.knownTail = await wal.tail(ch.name);
      if (ch.applied > ch.knownTail) throw new WalBehindCheckpointError(ch.name, ch.applied, ch.knownTail, 'its checkpoint');
      const beyond = metas.find((m) => m.channel === ch.index && walReach(m) > ch.knownTail);
      if (beyond) throw new WalBehindCheckpointError(ch.name, walReach(beyond), ch.knownTail, `segment ${beyond.segmentId} (${beyond.state})`);
      this.pump.kick(ch);
      await this.pump.caughtUpOrFailed(ch);
      if (ch.unavailable) throw (ch.unavailable as ChannelUnavailableError).cause;
    }
    if (rebuildPk) await catalog.kv.delete(pkRebuildKey(s.info.collectionId)); // the replay re-derived the rest
    for (const seg of s.segments.values()) if (seg.meta.state === 'Flushed') indexes.indexLater(seg);
  }

  /** The collection's schema, indexes and properties. */
  get info(): CollectionInfo {
    return this.state.info;
  }
  set info(info: CollectionInfo) {
    this.state.info = info;
  }

  /** The collection's channels. */
  get channels(): ChannelState[] {
    return this.state.channels;
  }

  /** The segments open in this process, by id. */
  get segments(): CollectionState['segments'] {
    return this.state.segments;
  }

  /** Whether this process applies the channel. */
  applies(ch: ChannelState): boolean {
    return this.role.share.applies(ch.name);
  }

  /** {@inheritDoc ChannelPump.followTails} */
  followTails(readSince?: number): Promise<boolean> {
    return this.pump.followTails(readSince);
  }

  /** {@inheritDoc ChannelWriter.appendInsert} */
  appendInsert(batch: InsertBatch, pks: PrimaryKey[], partition: string, upsert: boolean, onRecords?: (ts: bigint, rows: Map<ChannelState, number[]>) => void): Promise<bigint> {
    return this.writer.appendInsert(batch, pks, partition, upsert, onRecords);
  }

  /** {@inheritDoc ChannelWriter.appendDelete} */
  appendDelete(pks: PrimaryKey[], partition: string): Promise<bigint> {
    return this.writer.appendDelete(pks, partition);
  }

  /** {@inheritDoc Visibility.waitForTs} */
  waitForTs(ts: bigint, timeoutMs?: number): Promise<void> {
    return this.visibility.waitForTs(ts, timeoutMs);
  }

  /** Seals every growing segment (a flush record on each channel) and waits until they are durable. */
  async flush(): Promise<void> {
    const s = this.state;
    const { clock, catalog } = s.deps;
    const ts = await this.writer.appendFlushRecords(s.channels);
    const timeoutMs = s.config.consistencyTimeoutMs * 6;
    await this.visibility.waitForTs(ts, timeoutMs);
    await Promise.all([...s.flushTasks.values()]);
    for (const ch of s.channels) await this.checkpointer.checkpoint(ch);
    // A channel applied by another process is flushed once its checkpoint passes the flush record.
    const deadline = clock.now() + timeoutMs;
    for (const ch of s.channels) {
      if (this.applies(ch)) continue;
      while ((await catalog.getCheckpoint(ch.name)).lastTs < ts) {
        if (clock.now() > deadline) throw new FlushTimeoutError(ch.name, timeoutMs, ts);
        await clock.sleep(50);
      }
    }
  }

  /** {@inheritDoc Checkpointer.checkpoint} */
  checkpoint(ch: ChannelState): Promise<void> {
    return this.checkpointer.checkpoint(ch);
  }

  /** {@inheritDoc Checkpointer.settle} */
  settle(deadline: number): Promise<void> {
    return this.checkpointer.settle(deadline);
  }

  /** {@inheritDoc Flusher.sealIdle} */
  sealIdle(now?: number): void {
    this.flusher.sealIdle(now);
  }

  /** {@inheritDoc SegmentSource.makeResident} */
  makeResident(scope?: SegmentScope): Promise<void> {
    return this.role.segments.makeResident(scope);
  }

  /** {@inheritDoc SegmentSource.fetchVectors} */
  fetchVectors(segments: Iterable<Segment>): Promise<void> {
    return this.role.segments.fetchVectors(segments);
  }

  /** {@inheritDoc SegmentSource.applyResidency} */
  applyResidency(idleMs: number, now = this.state.deps.clock.now()): Promise<void> {
    return this.role.segments.applyResidency(idleMs, now);
  }

  /** {@inheritDoc CompactionRunner.compact} */
  compact(budget?: CompactionBudget): Promise<number> {
    return this.compaction.compact(budget);
  }

  /** {@inheritDoc IndexScheduler.resetIndexes} */
  resetIndexes(fieldName: string): Promise<void> {
    return this.role.indexes.resetIndexes(fieldName);
  }

  /**
   * Deletes the live rows of partitions that no longer exist (a drop interrupted by a crash, or
   * writes that raced it), so that a partition created again with that name starts empty.
   */
  async purgeDroppedPartitions(): Promise<void> {
    const byPartition = new Map<string, PrimaryKey[]>();
    for (const seg of this.state.segments.values()) {
      if (this.state.info.partitions.includes(seg.meta.partition)) continue;
      let pks = byPartition.get(seg.meta.partition);
      if (!pks) byPartition.set(seg.meta.partition, (pks = []));
      for (let o = 0; o < seg.rowCount; o++) if (!seg.isDeleted(o)) pks.push(seg.pks[o]);
    }
    for (const [partition, pks] of byPartition) if (pks.length > 0) await this.waitForTs(await this.appendDelete(pks, partition));
  }

  /** Stops background work and waits for running flushes. */
  async close(): Promise<void> {
    const s = this.state;
    s.closed = true;
    await Promise.all(s.channels.map((c) => c.pumping));
    await Promise.all([...s.flushTasks.values()]);
    await this.checkpointer.drain();
    s.deps.memory?.closed(
      s.segments.values(),
      s.channels.map((c) => c.name),
    );
    for (const seg of s.segments.values()) seg.close();
  }
}

/**
 * How far the WAL must reach for a segment's metadata to hold: a durable segment's end (the replay
 * skips positions below it), an unflushed one's opening record (the replay rebuilds it from there).
 */
export function walReach(meta: SegmentMeta): bigint {
  const durable = meta.state === 'Flushed' || meta.state === 'Dropped';
  return durable && meta.endPosition !== undefined ? meta.endPosition : meta.startPosition + 1n;
}
