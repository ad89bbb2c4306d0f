/**
 * The datanode on AWS (the ingest Lambda's role): a Kinesis batch wakes it for the channels its
 * records belong to; it applies each channel's WAL from where the channel's state stands up to the
 * end of the batch, or the tip without one (PK index and delete logs in DynamoDB, sealed segments
 * flushed to S3, checkpoints) and hands flushed segments to the indexer. The WAL (its position index)
 * is the truth; the batch's records only save reading the same bytes from the shard again, so a
 * batch delivered twice, or retried after a crash mid-batch, replays idempotently.
 *
 * One applier per channel: the Kinesis event source runs one invocation per shard at a time, but a
 * warm container may have applied a channel in an earlier invocation that another container has
 * applied since. A per-channel lease (a versioned KV key bumped by every invocation) tells: if the
 * lease moved on since this container last held it, its in-memory state is stale and the collection
 * is reopened from the checkpoint.
 *
 * Idle channels: a channel that stops receiving writes gets no more Kinesis batches, so nothing
 * would ever seal its growing segment, and its acknowledged rows would age out of the stream's
 * retention. The ingest function therefore also runs on a schedule of its own (an EventBridge rule,
 * independent of the compactor): `sweep` looks at every channel, appends a flush record to those
 * with records past their checkpoint that have been idle for idleSealMs (or whose oldest unflushed
 * record is older than maxUnflushedAgeMs, so a slow trickle is flushed too), and the record wakes
 * the channel's datanode through the event source like any write. It also reports each channel's
 * checkpoint age (the age of its oldest unflushed record), which the role publishes as a metric
 * the stack alarms on: an age that keeps growing means the channel's datanode is not flushing.
 */
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { Catalog, type SegmentMeta } from '../engine/catalog/catalog.ts';
import { leaseKey } from '../engine/catalog/key-layout.ts';
import { collectionOfChannel } from '../engine/channel-state.ts';
import { decodeWalRecord, encodeWalRecord, type WalRecordBody } from '../engine/codec/wal-record-codec.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../engine/engine-config.ts';
import { datanodeRole } from '../engine/roles/datanode.ts';
import { TaskQueue } from '../engine/task-queue.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { LeaseConflictError, WalRecordMissingError } from '../engine/errors.ts';
import type { KvStore } from '../engine/ports/kv-store.ts';
import type { Wal } from '../engine/ports/wal.ts';
import type { CollectionSchema } from '../engine/schema/types.ts';
import { physicalMs, Tso } from '../engine/tso.ts';
import { openRoleDatabase, type RoleStores } from './shared-stores.ts';

const EMPTY = new Uint8Array(0);
/** Default oldest unflushed record after which a sweep seals a channel even if it is not idle. */
export const DEFAULT_MAX_UNFLUSHED_AGE_MS = 60 * 60_000;

/** What a sweep found and did on one channel. */
export interface ChannelSweep {
  channel: string;
  /** Records past the channel's checkpoint (not yet durable in flushed segments). */
  unflushedRecords: number;
  /** Seconds since the oldest of them was written (0 when there is none). */
  checkpointAgeSeconds: number;
  /** Whether this sweep appended a flush record to the channel. */
  sealed: boolean;
}

/** Options of a datanode. */
export interface DatanodeOptions {
  /** A sweep seals a channel whose oldest unflushed record is this old, idle or not (default 1 h). */
  maxUnflushedAgeMs?: number;
  /** Where faults are logged (default: nowhere). */
  logger?: Logger;
}

/** A datanode over the deployment's shared stores. */
export class Datanode {
  private readonly applying: Set<string>;
  /** Channel → the lease version this container holds (set when it claimed it). */
  private readonly held = new Map<string, bigint>();
  /** Collection id → the channels its runtime was opened to apply. */
  private readonly openedFor = new Map<number, string>();
  private readonly queue = new TaskQueue();
  /** Timestamps of the sweep's flush records (the channel's datanode re-sequences them). */
  private readonly tso = new Tso();

  private constructor(
    private readonly db: EngineDatabase,
    private readonly kv: KvStore,
    private readonly wal: Wal,
    applying: Set<string>,
    private readonly idleSealMs: number,
    private readonly maxUnflushedAgeMs: number,
    private readonly log: Logger,
  ) {
    this.applying = applying;
  }

  /** Opens the datanode; `indexSegment` hands a flushed segment to the indexer. */
  static async open(stores: RoleStores, config: Partial<EngineConfig>, indexSegment: (meta: SegmentMeta) => void, options: DatanodeOptions = {}): Promise<Datanode> {
    const applying = new Set<string>();
    const db = await openRoleDatabase(stores, 'datanode', config, datanodeRole(applying, indexSegment), options.logger);
    const idleSealMs = config.idleSealMs ?? DEFAULT_ENGINE_CONFIG.idleSealMs;
    return new Datanode(db, stores.kv, stores.wal, applying, idleSealMs, options.maxUnflushedAgeMs ?? DEFAULT_MAX_UNFLUSHED_AGE_MS, options.logger ?? NOOP_LOGGER);
  }

  /**
   * The scheduled sweep (see the file comment): seals every channel that is idle with unflushed
   * records, or whose oldest unflushed record is older than maxUnflushedAgeMs, by appending a flush
   * record; a channel whose last record is a flush already waits for its datanode and gets none.
   * Reports every channel's checkpoint age.
   */
  sweep(now = Date.now()): Promise<ChannelSweep[]> {
    return this.queue.run(() => this.sweepNow(now));
  }

  private async sweepNow(now: number): Promise<ChannelSweep[]> {
    await this.db.refreshCatalog();
    const catalog = new Catalog(this.kv);
    const out: ChannelSweep[] = [];
    for (const info of await catalog.listCollections()) {
      const rt = this.db.runtimeById(info.collectionId);
      if (!rt) continue;
      const toSeal: { name: string }[] = [];
      for (const ch of rt.channels) {
        const [tail, cp] = await Promise.all([this.wal.tail(ch.name), catalog.getCheckpoint(ch.name)]);
        const report: ChannelSweep = { channel: ch.name, unflushedRecords: Number(tail - cp.position), checkpointAgeSeconds: 0, sealed: false };
        out.push(report);
        if (cp.position >= tail) continue;
        const [oldest, last] = await Promise.all([this.recordAt(ch.name, cp.position, info.schema), this.recordAt(ch.name, tail - 1n, info.schema)]);
        const age = now - physicalMs(oldest.ts);
        report.checkpointAgeSeconds = Math.max(0, Math.floor(age / 1000));
        if (last.kind === 'flush') continue; // sealing already; a growing age means its datanode is failing
        if (now - physicalMs(last.ts) >= this.idleSealMs || age >= this.maxUnflushedAgeMs) {
          toSeal.push(ch);
          report.sealed = true;
        }
      }
      // Appended straight to the WAL, not through the runtime: this container may not be the one
      // applying the channel, and its channel state must not count a record it has not applied.
      if (toSeal.length > 0) {
        const record = encodeWalRecord({ kind: 'flush', ts: this.tso.allocate(), collectionId: info.collectionId }, info.schema);
        await Promise.all(toSeal.map((ch) => this.wal.append(ch.name, [record])));
      }
    }
    return out;
  }

  private async recordAt(channel: string, position: bigint, schema: CollectionSchema): Promise<WalRecordBody> {
    const [record] = await this.wal.read(channel, position, 1);
    if (!record) throw new WalRecordMissingError(channel, position);
    return decodeWalRecord(record.data, schema);
  }

  /**
   * Applies the given channels up to their WAL tips — or, for a channel `reach` names, up to the
   * position it gives (after the last record of the batch handed over: the next batch delivers what
   * follows, so reading it now would read it twice) — and waits until what that sealed is flushed.
   * Returns the channels that failed (their apply error logged), to be retried by the event source.
   */
  apply(channels: string[], deadline: number, reach?: ReadonlyMap<string, bigint>): Promise<Set<string>> {
    // A Lambda container runs one invocation at a time; callers that share a datanode queue up.
    return this.queue.run(() => this.applyNow(channels, deadline, reach));
  }

  private async applyNow(channels: string[], deadline: number, reach: ReadonlyMap<string, bigint> | undefined): Promise<Set<string>> {
    const failed = new Set<string>();
    const byCollection = new Map<number, string[]>();
    for (const ch of new Set(channels)) {
      const collectionId = collectionOfChannel(ch);
      if (collectionId === undefined) continue; // not an engine channel: nothing to apply
      let list = byCollection.get(collectionId);
      if (!list) byCollection.set(collectionId, (list = []));
      list.push(ch);
    }
    await this.db.refreshCatalog();
    for (const [collectionId, list] of byCollection) {
      try {
        await this.applyCollection(collectionId, list.sort(), deadline, reach);
      } catch (error) {
        this.log.error(`datanode: applying ${list.join(', ')} failed (the batch is retried)`, { channels: list, error });
        for (const ch of list) failed.add(ch);
      } finally {
        this.applying.clear();
      }
    }
    return failed;
  }

  private async applyCollection(collectionId: number, channels: string[], deadline: number, reach: ReadonlyMap<string, bigint> | undefined): Promise<void> {
    let stale = this.openedFor.get(collectionId) !== channels.join(',');
    for (const ch of channels) {
      const version = await this.claim(ch);
      if (this.held.get(ch) !== version - 1n) stale = true;
      this.held.set(ch, version);
      this.applying.add(ch);
    }
    let rt = this.db.runtimeById(collectionId);
    if (!rt) return; // dropped: its records need no applying
    if (stale) {
      rt = await this.db.reopenCollection(collectionId);
      if (!rt) return;
      this.openedFor.set(collectionId, channels.join(','));
    }
    for (const ch of rt.state.channels) ch.applyLimit = reach?.get(ch.name);
    await rt.followTails();
    await rt.settle(deadline);
  }

  /** Bumps the channel's lease; returns the new version. Fails if another datanode bumped it concurrently. */
  private async claim(channel: string): Promise<bigint> {
    const key = leaseKey(channel);
    const [current] = await this.kv.batchGetVersioned([key]);
    const next = (current?.version ?? 0n) + 1n;
    const [ok] = await this.kv.batchPutIfNewer([{ key, value: EMPTY, version: next }]);
    if (!ok) throw new LeaseConflictError(channel);
    return next;
  }

  /** Closes the engine and the stores. */
  close(): Promise<void> {
    return this.db.close();
  }
}
