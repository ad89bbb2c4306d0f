/**
 * The datanode on AWS (the ingest Lambda's role): a Kinesis batch wakes it for the channels its
 * records belong to; it applies each channel's WAL from where the channel's state stands up to the
 * tip (PK index and delete logs in DynamoDB, sealed segments flushed to S3, checkpoints) and hands
 * flushed segments to the indexer. The batch's own records are only a wake-up: the WAL is the truth,
 * so a batch delivered twice, or retried after a crash mid-batch, replays idempotently.
 *
 * One applier per channel: the Kinesis event source runs one invocation per shard at a time, but a
 * warm container may have applied a channel in an earlier invocation that another container has
 * applied since. A per-channel lease (a versioned KV key bumped by every invocation) tells: if the
 * lease moved on since this container last held it, its in-memory state is stale and the collection
 * is reopened from the checkpoint.
 */
import type { SegmentMeta } from '../engine/catalog/catalog.ts';
import { collectionOfChannel } from '../engine/channel-state.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import { TaskQueue } from '../engine/collection-runtime.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { ErrorCode, MilvusError } from '../engine/errors.ts';
import type { KvStore } from '../engine/ports/kv-store.ts';
import { openRoleDatabase, type SharedStores } from './shared-stores.ts';

const EMPTY = new Uint8Array(0);

/** A datanode over the deployment's shared stores. */
export class Datanode {
  private readonly applying: Set<string>;
  /** Channel → the lease version this container holds (set when it claimed it). */
  private readonly held = new Map<string, bigint>();
  /** Collection id → the channels its runtime was opened to apply. */
  private readonly openedFor = new Map<number, string>();
  private readonly queue = new TaskQueue();

  private constructor(
    private readonly db: EngineDatabase,
    private readonly kv: KvStore,
    applying: Set<string>,
  ) {
    this.applying = applying;
  }

  /** Opens the datanode; `indexSegment` hands a flushed segment to the indexer. */
  static async open(stores: SharedStores, config: Partial<EngineConfig>, indexSegment: (meta: SegmentMeta) => void): Promise<Datanode> {
    const applying = new Set<string>();
    const db = await openRoleDatabase(stores, 'datanode', config, {
      loadsSegments: (ch) => applying.has(ch),
      applies: (ch) => applying.has(ch),
      indexSegment,
      readsVectors: false,
    });
    return new Datanode(db, stores.kv, applying);
  }

  /**
   * Applies the given channels up to their WAL tips and waits until what that sealed is flushed.
   * Returns the channels that failed (their apply error logged), to be retried by the event source.
   */
  apply(channels: string[], deadline: number): Promise<Set<string>> {
    // A Lambda container runs one invocation at a time; callers that share a datanode queue up.
    return this.queue.run(() => this.applyNow(channels, deadline));
  }

  private async applyNow(channels: string[], deadline: number): Promise<Set<string>> {
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
        await this.applyCollection(collectionId, list.sort(), deadline);
      } catch (err) {
        console.error(`migrans datanode: applying ${list.join(', ')} failed (the batch is retried):`, err);
        for (const ch of list) failed.add(ch);
      } finally {
        this.applying.clear();
      }
    }
    return failed;
  }

  private async applyCollection(collectionId: number, channels: string[], deadline: number): Promise<void> {
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
    await rt.followTails();
    await rt.settle(deadline);
  }

  /** Bumps the channel's lease; returns the new version. Fails if another datanode bumped it concurrently. */
  private async claim(channel: string): Promise<bigint> {
    const key = `lease/${channel}`;
    const [current] = await this.kv.batchGetVersioned([key]);
    const next = (current?.version ?? 0n) + 1n;
    const [ok] = await this.kv.batchPutIfNewer([{ key, value: EMPTY, version: next }]);
    if (!ok) throw new MilvusError(ErrorCode.Unexpected, `another datanode is applying channel ${channel} right now; the batch is retried`);
    return next;
  }

  /** Closes the engine and the stores. */
  close(): Promise<void> {
    return this.db.close();
  }
}
