/**
 * One collection at run time: its channels, its segments, and the roles that act on them in one
 * process (the embedded deployment): the datanode that applies each channel's WAL records in order
 * (the sequencing point for every key of the channel), sealing, flushing, index building and
 * checkpoints.
 *
 * Crash safety: WAL records are the truth until a checkpoint. Everything applying a record does is
 * deterministic given the catalog (segment ids are looked up by the WAL position that opened the
 * segment) and idempotent (PK-index entries are versioned by timestamp and remember the rows they
 * superseded), so replaying records after a restart rebuilds exactly the state before the crash.
 */
import type { Catalog, SegmentMeta } from './catalog/catalog.ts';
import { ChannelState, channelName } from './channel-state.ts';
import { buildCompactedSegment, compactionBytes, planCompactions, type CompactionPlan } from './compactor.ts';
import { decodeWalRecord, encodeWalRecord, type WalRecordBody } from './codec/wal-record-codec.ts';
import type { EngineConfig } from './engine-config.ts';
import {
  ChannelStuckError,
  ChannelUnavailableError,
  CollectionNotFoundError,
  ConsistencyTimeoutError,
  DiskFullError,
  DiskLimitError,
  FlushTimeoutError,
  OperationTimeoutError,
  WalBehindCheckpointError,
  WalCorruptError,
} from './errors.ts';
import type { GrowingMemory } from './growing-memory.ts';
import { buildIndexFile, hnswSpec, indexParams } from './index-builder.ts';
import { channelOf } from './hash.ts';
import { PkIndex, type PkEntry, type RowLocation } from './pk-index.ts';
import type { Clock } from './ports/clock.ts';
import type { KvWrite } from './ports/kv-store.ts';
import type { LocalFiles } from './ports/local-files.ts';
import type { ObjectStore } from './ports/object-store.ts';
import type { VectorIndexFactory } from './ports/vector-index.ts';
import type { Wal } from './ports/wal.ts';
import type { InsertBatch } from './schema/batch.ts';
import type { CollectionInfo, FieldSchema, IndexSpec, PrimaryKey } from './schema/types.ts';
import { chunkKey, pkRebuildKey, segmentObjectPrefixes } from './catalog/key-layout.ts';
import { coldVectorColumn, readSegment, writeDeltaLog, writeSegmentChunks } from './segment/segment-io.ts';
import { Segment } from './segment/segment.ts';
import type { VectorColumn } from './segment/vector-column.ts';
import type { Tso } from './tso.ts';
import type { Logger } from './ports/logger.ts';
import { RwLock } from './rw-lock.ts';
import { segmentPlacementKey, type SegmentScope } from './segment-scope.ts';

/** What a runtime needs from its deployment. */
export interface RuntimeDeps {
  wal: Wal;
  objects: ObjectStore;
  catalog: Catalog;
  tso: Tso;
  config: EngineConfig;
  /** Local area for index files and chunks of object stores that are not local files, and index builds. */
  localFiles: LocalFiles;
  /** Builds and opens HNSW index files. */
  vectorIndexes: VectorIndexFactory;
  /** Waits of poll loops and retry backoff. */
  clock: Clock;
  /** Serializes CPU-heavy index builds across collections. */
  indexQueue: TaskQueue;
  /** Which roles this process plays; default: all of them (the embedded deployment). */
  roles?: RuntimeRoles;
  /** The process-wide account of growing data, where this process keeps it under a budget. */
  memory?: GrowingMemory;
  /** Where faults are logged; the runtime binds its collection's name. */
  logger: Logger;
}

/**
 * What a process does with a collection when the roles run in separate processes (AWS): the proxy
 * loads nothing and applies nothing, a datanode applies the channels of its Kinesis shard, a
 * querynode applies every channel into private stores, the compactor loads segments only.
 */
export interface RuntimeRoles {
  /** Whether to load the flushed segments of a channel (to serve reads, keep delete bitmaps or compact). */
  loadsSegments(channel: string): boolean;
  /** Whether this process applies the channel's WAL records (exactly one datanode per channel may). */
  applies(channel: string): boolean;
  /** Seeds the PK index from the loaded segments before replay (a querynode's private PK index starts empty). */
  seedsPkIndex?: boolean;
  /** Hands a flushed segment to the indexnode; by default its indexes are built in this process. */
  indexSegment?(meta: SegmentMeta): void;
  /**
   * Whether this process keeps a flushed segment's vectors and HNSW indexes in memory (default:
   * every segment). A querynode keeps its share only: the others' vectors stay on local disk until
   * a read's scope takes them in (makeResident), and go back there when idle (applyResidency).
   */
  resident?(meta: SegmentMeta): boolean;
  /**
   * The index file another process built for a segment with the same rows as `meta` (a querynode
   * cuts the same segments as the datanode, under private ids: the indexer's file fits them), if
   * one exists yet. With it, this process waits for that file instead of building its own.
   */
  sharedIndexFile?(meta: SegmentMeta, field: string): Promise<string | undefined>;
  /**
   * False where flushed segments' vectors are never read (a datanode applies writes with keys,
   * timestamps and delete bitmaps only): they are opened without vectors or indexes, so a cold
   * start reads a fraction of the data and memory does not grow with the collection's vectors.
   */
  readsVectors?: boolean;
}

/** The memory a compaction run may use (the AWS compactor's): plans needing more are deferred and reported. */
export interface CompactionBudget {
  bytes: number;
  onDefer(plan: CompactionPlan, bytes: number): void;
}

/** How long a process with `sharedIndexFile` waits for another's index file before building its own. */
const SHARED_INDEX_WAIT_MS = 10 * 60_000;
/** How often it looks for that file meanwhile. */
const SHARED_INDEX_POLL_MS = 2000;

/** Every role in one process. */
export const ALL_ROLES: RuntimeRoles = { loadsSegments: () => true, applies: () => true };

/** Runs async tasks one at a time, in order. */
export class TaskQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** Queues a task; the returned promise settles with it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task, task);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

const READ_BATCH = 256;

/** Bytes one row takes in memory, roughly (for size-based sealing). */
function rowBytes(info: CollectionInfo): number {
  let n = 16;
  for (const f of info.schema.fields) n += f.dataType === 'FloatVector' ? 4 * f.dim! : 16;
  return n;
}

/** A collection's live state and its datanode, indexnode and checkpoint roles. */
export class CollectionRuntime {
  readonly segments = new Map<number, Segment>();
  readonly channels: ChannelState[];
  readonly pk: PkIndex;
  /** Apply holds it exclusively; reads through the PK index hold it shared. */
  readonly lock = new RwLock();
  private readonly unflushedByStart = new Map<string, SegmentMeta>();
  /** Per channel, WAL ranges whose rows are already in flushed (or compacted-away) segments. */
  /** Compacted-away segments whose metadata is kept until no replay can reach their WAL range. */
  private readonly droppedMetas = new Set<SegmentMeta>();
  private readonly durableRanges = new Map<number, { partition: string; start: bigint; end: bigint }[]>();
  private readonly bytesPerRow: number;
  private readonly flushTasks = new Map<number, Promise<void>>();
  /** Rows the record being applied marked deleted in existing segments (undone if the apply fails). */
  private undo: { seg: Segment; offset: number }[] = [];
  /** Flushed segments the record being applied deleted rows from. */
  private readonly touched = new Set<Segment>();
  /** Segments taking part in a running compaction. */
  private readonly compacting = new Set<number>();
  /** Compaction outputs built in memory and waiting for their commit record. */
  private readonly pendingOutputs = new Map<number, Segment>();
  private readonly checkpointChain = new Map<number, Promise<void>>();
  private closed = false;
  private readonly roles: RuntimeRoles;

  private constructor(
    public info: CollectionInfo,
    readonly deps: RuntimeDeps,
  ) {
    this.roles = deps.roles ?? ALL_ROLES;
    this.channels = Array.from({ length: info.shardsNum }, (_, i) => new ChannelState(channelName(info.collectionId, i), i, deps.clock.now()));
    this.pk = new PkIndex(deps.catalog.kv, info.collectionId);
    this.bytesPerRow = rowBytes(info);
  }

  /** The deployment's logger with this collection's name bound (read per line: a rename changes it). */
  private get log(): Logger {
    return this.deps.logger.child({ collection: this.info.name });
  }

  /** Opens a collection: loads flushed segments, then replays each channel from its checkpoint. */
  static async open(info: CollectionInfo, deps: RuntimeDeps): Promise<CollectionRuntime> {
    const rt = new CollectionRuntime(info, deps);
    try {
      await CollectionRuntime.load(rt);
    } catch (err) {
      await rt.close().catch(() => undefined); // stops replay already started and frees the segments read so far
      throw err;
    }
    return rt;
  }

  /** Loads flushed segments, then replays each channel from its checkpoint. */
  private static async load(rt: CollectionRuntime): Promise<void> {
    const { info, deps } = rt;
    const metas = await deps.catalog.listSegments(info.collectionId);
    for (const meta of metas) {
      if (!rt.roles.loadsSegments(channelName(info.collectionId, meta.channel))) continue;
      if ((meta.state === 'Flushed' || meta.state === 'Dropped') && meta.endPosition !== undefined) rt.addDurableRange(meta);
      if (meta.state === 'Dropped') rt.droppedMetas.add(meta);
      else if (meta.state === 'Flushed') {
        rt.segments.set(meta.segmentId, await rt.openFlushed(meta));
      } else {
        rt.unflushedByStart.set(`${meta.channel}/${meta.startPosition}`, meta);
      }
    }
    if (rt.roles.seedsPkIndex) await rt.seedPkIndex();
    // After `migrans repair` cut applied records, PK entries may point at rows no replay rebuilds: start over from the segments.
    const rebuildPk = !rt.roles.seedsPkIndex && (await deps.catalog.kv.get(pkRebuildKey(info.collectionId))) !== undefined;
    if (rebuildPk) {
      await rt.pk.drop();
      await rt.seedPkIndex();
    }
    for (const ch of rt.channels) {
      if (!rt.applies(ch)) continue;
      const cp = await deps.catalog.getCheckpoint(ch.name);
      ch.applied = cp.position;
      ch.lastTs = cp.lastTs;
      // A WAL that is damaged or ends before a position the catalog relies on fails the open: the
      // collection is then refused as damaged (EngineDatabase), never acknowledging writes it could not apply.
      ch.knownTail = await deps.wal.tail(ch.name);
      if (ch.applied > ch.knownTail) throw new WalBehindCheckpointError(ch.name, ch.applied, ch.knownTail, 'its checkpoint');
      const beyond = metas.find((m) => m.channel === ch.index && walReach(m) > ch.knownTail);
      if (beyond) throw new WalBehindCheckpointError(ch.name, walReach(beyond), ch.knownTail, `segment ${beyond.segmentId} (${beyond.state})`);
      rt.kick(ch);
      await rt.caughtUpOrFailed(ch);
      if (ch.unavailable) throw (ch.unavailable as ChannelUnavailableError).cause;
    }
    if (rebuildPk) await deps.catalog.kv.delete(pkRebuildKey(info.collectionId)); // the replay re-derived the rest
    for (const seg of rt.segments.values()) if (seg.meta.state === 'Flushed') rt.indexLater(seg);
  }

  /** Stops a channel whose WAL turned out damaged while applying it: writes to it and reads waiting on it fail with `cause` until a restart after repair. */
  private makeUnavailable(ch: ChannelState, cause: Error): void {
    ch.unavailable = new ChannelUnavailableError(
      ch.name,
      `collection ${this.info.name} is unavailable: channel ${ch.name} cannot be applied, so writes to it are refused (nothing was written) and reads that wait for it fail; ${cause.message}`,
      { cause },
    );
    ch.error = ch.unavailable;
    this.log.error(ch.unavailable.message, { channel: ch.name, error: ch.unavailable.cause });
    ch.notify();
  }

  /** Whether this process applies the channel. */
  applies(ch: ChannelState): boolean {
    return this.roles.applies(ch.name);
  }

  /**
   * Writes PK-index entries for the live rows of the loaded segments. Where a key is live in
   * several (a delete not yet in a delta log when the segments were read), the newest row wins.
   */
  private async seedPkIndex(): Promise<void> {
    const latest = new Map<PrimaryKey, { seg: Segment; offset: number; ts: bigint }>();
    for (const seg of this.segments.values()) {
      for (let o = 0; o < seg.rowCount; o++) {
        if (seg.isDeleted(o)) continue;
        const pk = seg.pks[o];
        const seen = latest.get(pk);
        if (seen && seen.ts >= seg.rowTs[o]) {
          seg.markDeleted(o);
          continue;
        }
        if (seen) seen.seg.markDeleted(seen.offset);
        latest.set(pk, { seg, offset: o, ts: seg.rowTs[o] });
      }
    }
    let batch: { pk: PrimaryKey; entry: PkEntry }[] = [];
    for (const [pk, { seg, offset, ts }] of latest) {
      batch.push({ pk, entry: { location: { segmentId: seg.id, offset }, deleted: false, version: ts } });
      if (batch.length === 10_000) {
        await this.pk.write(batch);
        batch = [];
      }
    }
    await this.pk.write(batch);
  }

  /**
   * Learns how far other processes have appended to the channels this one applies, and applies up
   * to there (a querynode's writers are elsewhere).
   */
  async followTails(): Promise<void> {
    await Promise.all(
      this.channels
        .filter((ch) => this.applies(ch))
        .map(async (ch) => {
          const tail = await this.deps.wal.tail(ch.name);
          if (tail > ch.knownTail) {
            ch.knownTail = tail;
            this.kick(ch);
          }
        }),
    );
  }

  // ---------------------------------------------------------------- write path (proxy side)

  /** The channel a key routes to. */
  channelFor(pk: PrimaryKey): ChannelState {
    return this.channels[channelOf(pk, this.channels.length)];
  }

  /**
   * Appends one record per channel with one timestamp. Timestamp allocation and the append calls
   * happen in one synchronous block, so each channel's WAL order is timestamp order. Every record is
   * encoded before the first append: an encoding failure appends nothing and leaves no channel
   * counting an append in flight (which would hold its tSafe, and every Strong read, forever).
   */
  async appendRecords(build: (ts: bigint) => Map<ChannelState, WalRecordBody>): Promise<bigint> {
    this.assertOpen();
    const ts = this.deps.tso.allocate();
    const records = [...build(ts)].map(([ch, body]) => [ch, encodeWalRecord(body, this.info.schema)] as const);
    for (const [ch] of records) if (ch.unavailable) throw ch.unavailable; // before any append: no partial write
    const appends: Promise<void>[] = [];
    for (const [ch, encoded] of records) {
      ch.inFlight++;
      appends.push(
        this.deps.wal
          .append(ch.name, [encoded])
          .then((pos) => {
            if (pos + 1n > ch.knownTail) ch.knownTail = pos + 1n;
          })
          .finally(() => {
            ch.inFlight--;
            this.kick(ch);
          }),
      );
    }
    const results = await Promise.allSettled(appends);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    if (failed.length > 0) throw appendFailure(failed, results.length);
    return ts;
  }

  /**
   * Splits an insert batch by channel and appends it. `onRecords` learns the timestamp and each
   * channel's rows before any append starts (the memory budget's admission places its reservation).
   */
  appendInsert(batch: InsertBatch, pks: PrimaryKey[], partition: string, upsert: boolean, onRecords?: (ts: bigint, rows: Map<ChannelState, number[]>) => void): Promise<bigint> {
    const rowsByChannel = new Map<ChannelState, number[]>();
    for (let i = 0; i < pks.length; i++) {
      const ch = this.channelFor(pks[i]);
      let rows = rowsByChannel.get(ch);
      if (!rows) rowsByChannel.set(ch, (rows = []));
      rows.push(i);
    }
    const single = rowsByChannel.size === 1;
    return this.appendRecords((ts) => {
      onRecords?.(ts, rowsByChannel);
      const out = new Map<ChannelState, WalRecordBody>();
      for (const [ch, rows] of rowsByChannel) {
        const sub = single ? batch : sliceBatch(batch, rows);
        out.set(ch, { kind: 'insert', ts, collectionId: this.info.collectionId, partition, upsert, batch: sub });
      }
      return out;
    });
  }

  /** Appends deletes of the given keys, routed by channel. */
  appendDelete(pks: PrimaryKey[], partition: string): Promise<bigint> {
    const byChannel = new Map<ChannelState, PrimaryKey[]>();
    for (const pk of pks) {
      const ch = this.channelFor(pk);
      let list = byChannel.get(ch);
      if (!list) byChannel.set(ch, (list = []));
      list.push(pk);
    }
    return this.appendRecords((ts) => {
      const out = new Map<ChannelState, WalRecordBody>();
      for (const [ch, list] of byChannel) out.set(ch, { kind: 'delete', ts, collectionId: this.info.collectionId, partition, pks: list });
      return out;
    });
  }

  /** Seals every growing segment (a flush record on each channel) and waits until they are durable. */
  async flush(): Promise<void> {
    const ts = await this.appendFlushRecords(this.channels);
    const timeoutMs = this.config.consistencyTimeoutMs * 6;
    await this.waitForTs(ts, timeoutMs);
    await Promise.all([...this.flushTasks.values()]);
    for (const ch of this.channels) await this.checkpoint(ch);
    // A channel applied by another process is flushed once its checkpoint passes the flush record.
    const deadline = this.deps.clock.now() + timeoutMs;
    for (const ch of this.channels) {
      if (this.applies(ch)) continue;
      while ((await this.deps.catalog.getCheckpoint(ch.name)).lastTs < ts) {
        if (this.deps.clock.now() > deadline) throw new FlushTimeoutError(ch.name, timeoutMs, ts);
        await this.deps.clock.sleep(50);
      }
    }
  }

  /** Appends a flush record to the given channels: their growing segments seal where their datanode reaches it. */
  appendFlushRecords(channels: ChannelState[]): Promise<bigint> {
    for (const ch of channels) ch.flushPending = true;
    return this.appendRecords((ts) => new Map(channels.map((ch) => [ch, { kind: 'flush', ts, collectionId: this.info.collectionId } as WalRecordBody])));
  }

  // ---------------------------------------------------------------- visibility

  private get config(): EngineConfig {
    return this.deps.config;
  }

  /** The channel's serviceable timestamp: everything at or below it is applied. */
  tSafe(ch: ChannelState): bigint {
    return ch.caughtUp() ? this.deps.tso.now() : ch.lastTs;
  }

  /** Waits until every channel has applied everything up to `ts`, or throws a timeout error. */
  async waitForTs(ts: bigint, timeoutMs = this.config.consistencyTimeoutMs): Promise<void> {
    const deadline = this.deps.clock.now() + timeoutMs;
    for (const ch of this.channels) {
      if (!this.applies(ch)) continue; // visibility is the business of the process that applies it
      if (ch.unavailable) throw ch.unavailable;
      while (this.tSafe(ch) < ts) {
        const left = deadline - this.deps.clock.now();
        if (left <= 0) {
          // A failing apply is retried in the background; the read reports it once it gives up.
          if (ch.error) throw new ChannelStuckError(this.info.name, ch.name, timeoutMs, ts, ch.lastTs, ch.applied, ch.error);
          throw new ConsistencyTimeoutError(this.info.name, ch.name, timeoutMs, ts, ch.lastTs);
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ch.progress(), new Promise<void>((r) => (timer = setTimeout(r, Math.min(left, 50))))]);
        clearTimeout(timer);
      }
    }
  }

  // ---------------------------------------------------------------- datanode: applying records

  private kick(ch: ChannelState): void {
    if (this.closed || !this.applies(ch) || ch.unavailable) return;
    if (ch.pumping) {
      ch.pumpAgain = true;
      return;
    }
    ch.pumpAgain = false;
    ch.pumping = this.pump(ch).finally(() => {
      ch.pumping = null;
      if (ch.pumpAgain) this.kick(ch); // an append landed while the loop was winding down
    });
  }

  /** Resolves once the channel has applied everything in its WAL, or has hit an error (which reads then report). */
  private async caughtUpOrFailed(ch: ChannelState): Promise<void> {
    while (!ch.caughtUp() && !ch.error && ch.pumping) await ch.progress();
  }

  /**
   * Applies records from the channel's position until the tail. A record whose apply fails is
   * rolled back and retried with backoff; meanwhile reads that need it fail fast with the error.
   */
  private async pump(ch: ChannelState): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        const records = await this.deps.wal.read(ch.name, ch.applied, READ_BATCH);
        if (records.length === 0) {
          if (ch.pumpAgain) {
            ch.pumpAgain = false;
            continue;
          }
          break;
        }
        for (const r of records) {
          if (this.closed) break;
          const body = decodeWalRecord(r.data, this.info.schema);
          await this.lock.write(() => this.apply(ch, r.position, body));
          ch.error = undefined;
          failures = 0;
          if (r.position + 1n > ch.knownTail) ch.knownTail = r.position + 1n;
        }
        ch.notify();
      } catch (err) {
        if (this.closed) break;
        if (err instanceof WalCorruptError) {
          this.makeUnavailable(ch, err); // damage does not heal by retrying
          break;
        }
        ch.error = err as Error;
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          this.log.warn(`channel ${ch.name} failed to apply the record at position ${ch.applied} (attempt ${failures}; retrying)`, { channel: ch.name, error: err });
        }
        ch.notify();
        await this.deps.clock.sleep(Math.min(5000, 25 * 2 ** Math.min(failures, 8)));
      }
    }
    ch.notify();
  }

  /** Applies one record; on failure, in-memory changes are undone so that a retry starts clean. */
  private async apply(ch: ChannelState, position: bigint, body: WalRecordBody): Promise<void> {
    const ts = body.ts > ch.lastTs ? body.ts : ch.lastTs + 1n;
    const growingRows = new Map([...ch.growing.values()].map((seg) => [seg, seg.rowCount]));
    this.undo = [];
    this.touched.clear();
    try {
      if (body.kind === 'insert') await this.applyInsert(ch, position, ts, body.partition, body.batch);
      else if (body.kind === 'delete') await this.applyDelete(ts, body.partition, body.pks);
      else if (body.kind === 'compact') await this.applyCompact(ch, ts, body);
      else {
        ch.flushPending = false;
        for (const seg of [...ch.growing.values()]) this.seal(ch, seg, position + 1n);
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
    const reuse = this.unflushedByStart.get(`${ch.index}/${position}`);
    let meta: SegmentMeta;
    if (reuse) {
      meta = { ...reuse, state: 'Growing', rowCount: 0 };
    } else {
      meta = {
        segmentId: await this.deps.catalog.allocateId(),
        collectionId: this.info.collectionId,
        partition,
        channel: ch.index,
        state: 'Growing',
        startPosition: position,
        prevTs: ch.lastTs,
        rowCount: 0,
        sealRows: this.config.sealRows,
        sealBytes: this.config.sealBytes,
        indexFiles: {},
      };
      await this.deps.catalog.write([this.deps.catalog.putSegmentOp(meta)]);
    }
    const seg = Segment.growing(meta, this.info.schema);
    this.segments.set(meta.segmentId, seg);
    ch.growing.set(partition, seg);
    return seg;
  }

  private markDeleted(loc: RowLocation | undefined): void {
    if (!loc) return;
    const seg = this.segments.get(loc.segmentId);
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
    await Promise.all(segs.map((seg) => writeDeltaLog(this.deps.objects, seg, ts)));
  }

  private addDurableRange(meta: SegmentMeta): void {
    let list = this.durableRanges.get(meta.channel);
    if (!list) this.durableRanges.set(meta.channel, (list = []));
    list.push({ partition: meta.partition, start: meta.startPosition, end: meta.endPosition! });
  }

  /** Whether a record's rows are already in a flushed segment (replay after a restart skips them). */
  private isDurable(ch: ChannelState, partition: string, position: bigint): boolean {
    const list = this.durableRanges.get(ch.index);
    return !!list && list.some((r) => r.partition === partition && r.start <= position && position < r.end);
  }

  private async applyInsert(ch: ChannelState, position: bigint, ts: bigint, partition: string, batch: InsertBatch): Promise<void> {
    if (this.isDurable(ch, partition, position)) return;
    const pkField = this.pkField();
    const pks = batch.columns.get(pkField.name) as PrimaryKey[];
    const seg = await this.growingSegment(ch, partition, position);
    const entries = await this.pk.lookup(pks);
    const writes: { pk: PrimaryKey; entry: PkEntry }[] = [];
    const columns = this.info.schema.fields.map((f) => batch.columns.get(f.name)!);
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
    ch.lastInsertAt = this.deps.clock.now();
    await this.persistTouched(ts);
    await this.pk.write(writes);
    this.deps.memory?.grew(ch.name, ts, seg, seg.rowCount * this.bytesPerRow, () => this.appendFlushRecords([ch]));
    const end = seg.meta.endPosition;
    if (end !== undefined ? position + 1n >= end : seg.rowCount >= seg.meta.sealRows || seg.rowCount * this.bytesPerRow >= seg.meta.sealBytes) {
      this.seal(ch, seg, position + 1n);
    }
  }

  private async applyDelete(ts: bigint, partition: string, pks: PrimaryKey[]): Promise<void> {
    const entries = await this.pk.lookup(pks);
    const writes: { pk: PrimaryKey; entry: PkEntry }[] = [];
    for (let i = 0; i < pks.length; i++) {
      const e = entries[i];
      if (!e || e.version > ts) continue;
      if (e.version === ts) {
        if (e.deleted) this.markDeleted(e.location); // replay
        continue;
      }
      if (e.deleted || !e.location) continue;
      const seg = this.segments.get(e.location.segmentId);
      if (partition && seg && seg.meta.partition !== partition) continue;
      this.markDeleted(e.location);
      writes.push({ pk: pks[i], entry: { location: e.location, deleted: true, version: ts } });
    }
    await this.persistTouched(ts);
    await this.pk.write(writes);
  }

  // ---------------------------------------------------------------- sealing, flushing, checkpoints

  private seal(ch: ChannelState, seg: Segment, endPosition: bigint): void {
    ch.growing.delete(seg.meta.partition);
    this.unflushedByStart.delete(`${ch.index}/${seg.meta.startPosition}`);
    if (seg.rowCount === 0) {
      this.deps.memory?.released(seg);
      this.segments.delete(seg.id);
      return;
    }
    this.deps.memory?.sealedSegment(seg);
    seg.meta.state = 'Sealed';
    seg.meta.endPosition = endPosition;
    this.scheduleFlush(ch, seg, 0);
  }

  /** Flushes a sealed segment in the background, retrying with backoff until it succeeds or the runtime closes. */
  private scheduleFlush(ch: ChannelState, seg: Segment, attempt: number): void {
    const task = this.deps.clock
      .sleep(attempt === 0 ? 0 : Math.min(30_000, 100 * 2 ** attempt))
      .then(() => this.flushSegment(ch, seg))
      .catch((err) => {
        if (this.closed) return;
        this.log.warn(`flushing segment ${seg.id} failed (attempt ${attempt + 1}; its rows stay in the WAL, retrying)`, { channel: ch.name, segment: seg.id, error: err });
        this.scheduleFlush(ch, seg, attempt + 1);
      })
      .finally(() => {
        if (this.flushTasks.get(seg.id) === task) this.flushTasks.delete(seg.id);
      });
    this.flushTasks.set(seg.id, task);
  }

  private async flushSegment(ch: ChannelState, seg: Segment): Promise<void> {
    if (this.closed || !this.segments.has(seg.id)) return this.deps.memory?.released(seg);
    await this.deps.catalog.write([this.deps.catalog.putSegmentOp(seg.meta)]);
    await writeSegmentChunks(this.deps.objects, seg, this.info.schema);
    if (this.closed) return;
    // From here on the segment's WAL range is skipped on replay, so its deletes must be durable:
    // those made so far go into one delta log, later ones are written by the applier.
    await this.lock.write(async () => {
      seg.syncDeletes = true;
      await writeDeltaLog(this.deps.objects, seg, 0n);
    });
    // The in-memory state turns Flushed only once the catalog says so: checkpoints trust it.
    const flushed: SegmentMeta = { ...seg.meta, state: 'Flushed', rowCount: seg.rowCount };
    await this.deps.catalog.write([this.deps.catalog.putSegmentOp(flushed)]);
    seg.meta.state = 'Flushed';
    seg.meta.rowCount = seg.rowCount;
    this.deps.memory?.released(seg);
    this.addDurableRange(seg.meta);
    this.indexLater(seg); // requested before the checkpoint: a flush that waits on checkpoints finds it requested
    await this.checkpoint(ch);
  }

  /**
   * Advances the channel's replay point to the oldest record whose effects are not all durable:
   * the start of its oldest unflushed segment, or everything applied when there is none. (Deletes
   * on flushed segments are already durable: the applier writes their delta logs.)
   */
  checkpoint(ch: ChannelState): Promise<void> {
    const prev = this.checkpointChain.get(ch.index) ?? Promise.resolve();
    const next = prev.then(() => this.doCheckpoint(ch)).catch((error) => this.log.error(`checkpoint of ${ch.name} failed`, { channel: ch.name, error }));
    this.checkpointChain.set(ch.index, next);
    return next;
  }

  private async doCheckpoint(ch: ChannelState): Promise<void> {
    if (this.closed || !this.applies(ch)) return;
    let position = ch.applied;
    let lastTs = ch.lastTs;
    for (const seg of this.segments.values()) {
      if (seg.meta.channel !== ch.index || (seg.meta.state !== 'Growing' && seg.meta.state !== 'Sealed')) continue;
      if (seg.meta.startPosition < position) {
        position = seg.meta.startPosition;
        lastTs = seg.meta.prevTs;
      }
    }
    const ops: KvWrite[] = [];
    ops.push(this.deps.catalog.putCheckpointOp(ch.name, { position, lastTs }));
    // Ranges and dropped segments wholly before the checkpoint can no longer be replayed.
    for (const meta of this.droppedMetas) {
      if (meta.channel === ch.index && meta.endPosition !== undefined && meta.endPosition <= position) {
        ops.push(this.deps.catalog.deleteSegmentOp(meta.collectionId, meta.segmentId));
        this.droppedMetas.delete(meta);
      }
    }
    await this.deps.catalog.write(ops);
    const ranges = this.durableRanges.get(ch.index);
    if (ranges)
      this.durableRanges.set(
        ch.index,
        ranges.filter((r) => r.end > position),
      );
    await this.deps.wal.truncate(ch.name, position);
  }

  /**
   * Waits until the channels applied here have applied every record they know of and the flushes
   * and checkpoints that caused are durable (a datanode finishing a batch). Throws a channel's apply
   * error, or a timeout error at `deadline` (ms since the epoch).
   */
  async settle(deadline: number): Promise<void> {
    const wait = async (done: () => boolean, what: string, ch?: ChannelState) => {
      while (!done()) {
        if (ch?.error) throw ch.error;
        if (this.deps.clock.now() > deadline) throw new OperationTimeoutError(what);
        await Promise.race([ch ? ch.progress() : this.deps.clock.sleep(50), this.deps.clock.sleep(50)]);
      }
    };
    for (const ch of this.channels) {
      if (this.applies(ch)) await wait(() => ch.caughtUp() && !ch.pumping, `applying channel ${ch.name}`, ch);
    }
    await wait(() => this.flushTasks.size === 0, `flushing the sealed segments of ${this.info.name}`);
    for (const ch of this.channels) if (this.applies(ch)) await this.checkpoint(ch);
  }

  /** Seals growing segments that have been idle longer than the configured time. */
  sealIdle(now = this.deps.clock.now()): void {
    const idle = this.channels.filter((ch) => ch.growing.size > 0 && !ch.unavailable && !ch.flushPending && now - ch.lastInsertAt >= this.config.idleSealMs);
    if (idle.length > 0) this.appendFlushRecords(idle).catch((error) => this.log.error('idle seal failed', { error }));
  }

  // ---------------------------------------------------------------- residency

  /**
   * Opens a flushed segment from the object store: resident (vectors read, indexes attached) when
   * the roles keep it in memory, else cold (vectors on local disk, no index attached), or without
   * vectors where the roles never read them.
   */
  private async openFlushed(meta: SegmentMeta, attach = true): Promise<Segment> {
    if (this.roles.readsVectors === false) return readSegment(this.deps.objects, meta, this.info.schema, { withoutVectors: true });
    if (this.keepsResident(meta)) {
      const seg = await readSegment(this.deps.objects, meta, this.info.schema, { files: this.deps.localFiles });
      if (attach) await this.attachIndexes(seg);
      return seg;
    }
    const seg = await readSegment(this.deps.objects, meta, this.info.schema, { files: this.deps.localFiles, coldVectors: (key) => this.localFile(key) });
    seg.resident = false;
    return seg;
  }

  private keepsResident(meta: SegmentMeta): boolean {
    return this.roles.resident?.(meta) ?? true;
  }

  /**
   * Takes the flushed segments a search needs (those in `scope`, or all) into memory: starts
   * reading their vectors and attaches their index files, or builds the missing ones (searches scan
   * a segment exactly meanwhile). This is how another querynode's share falls to a querynode.
   */
  async makeResident(scope?: SegmentScope): Promise<void> {
    const now = this.deps.clock.now();
    const loads: Promise<void>[] = [];
    for (const seg of this.segments.values()) {
      if (scope && !scope(seg.meta)) continue;
      seg.lastReadAt = now;
      if (!seg.resident) loads.push(this.loadSegment(seg));
    }
    await Promise.all(loads);
  }

  /** Segments being taken into memory. */
  private readonly loading = new Map<number, Promise<void>>();

  private loadSegment(seg: Segment): Promise<void> {
    let task = this.loading.get(seg.id);
    if (task) return task;
    task = (async () => {
      for (const f of this.info.schema.fields) if (f.dataType === 'FloatVector') seg.vectorColumn(f.name).loadInBackground();
      seg.resident = true;
      await this.attachIndexes(seg);
      this.indexLater(seg);
    })().finally(() => this.loading.delete(seg.id));
    this.loading.set(seg.id, task);
    return task;
  }

  /**
   * Brings memory in line with the roles' `resident`: flushed segments that turned resident are
   * taken in; those that no longer are, and that no read has needed for `idleMs`, go back to disk.
   */
  async applyResidency(idleMs: number, now = this.deps.clock.now()): Promise<void> {
    for (const seg of [...this.segments.values()]) {
      if (seg.meta.state !== 'Flushed' || this.compacting.has(seg.id)) continue;
      if (this.keepsResident(seg.meta)) {
        if (!seg.resident) await this.loadSegment(seg);
      } else if (seg.resident && now - seg.lastReadAt >= idleMs && !this.loading.has(seg.id)) {
        await this.releaseSegment(seg);
      }
    }
  }

  private async releaseSegment(seg: Segment): Promise<void> {
    const cold = new Map<string, VectorColumn>();
    for (const f of this.info.schema.fields) {
      if (f.dataType !== 'FloatVector') continue;
      const key = chunkKey(seg.meta, f.fieldId);
      cold.set(f.name, coldVectorColumn(this.deps.localFiles, await this.localFile(key), key, seg.meta));
    }
    // A read, a compaction or a drop may have come in meanwhile.
    if (this.closed || !seg.resident || !this.segments.has(seg.id) || this.keepsResident(seg.meta) || this.loading.has(seg.id)) {
      for (const c of cold.values()) c.close();
      return;
    }
    seg.release(cold);
  }

  // ---------------------------------------------------------------- compactor

  /**
   * Runs the compactions the current segments call for, one at a time, and waits until each is
   * committed; with a `budget`, plans needing more memory are deferred. Returns the plans executed.
   */
  async compact(budget?: CompactionBudget): Promise<number> {
    const plans = planCompactions(this.segments.values(), this.config, this.compacting);
    let done = 0;
    // One plan at a time: memory holds one plan's inputs and output, never every plan's.
    for (const plan of plans) {
      const bytes = compactionBytes(plan, this.info.schema);
      if (budget && bytes > budget.bytes) {
        budget.onDefer(plan, bytes);
        continue;
      }
      for (const s of plan.inputs) this.compacting.add(s.id);
      try {
        await this.runCompaction(plan);
        done++;
      } finally {
        for (const s of plan.inputs) this.compacting.delete(s.id);
      }
    }
    return done;
  }

  private async runCompaction(plan: CompactionPlan): Promise<void> {
    const ch = this.channels[plan.channel];
    const meta: SegmentMeta = {
      segmentId: await this.deps.catalog.allocateId(),
      collectionId: this.info.collectionId,
      partition: plan.partition,
      channel: plan.channel,
      state: 'Flushed',
      startPosition: 0n,
      prevTs: 0n,
      rowCount: 0,
      sealRows: this.config.sealRows,
      sealBytes: this.config.sealBytes,
      indexFiles: {},
      compactedFrom: plan.inputs.map((s) => s.id),
    };
    // Where segments are open without vectors (the AWS compactor), this plan's inputs are read whole, one at a time.
    const open = this.roles.readsVectors === false ? (s: Segment) => this.readWhole(s) : undefined;
    const { segment, inputs: described } = await buildCompactedSegment(meta, this.info.schema, plan.inputs, open);
    // Processes that sealed an input themselves know it under another id (a querynode's private
    // ids): the placement key, the same everywhere, lets them find it (older records lack it).
    const inputs = described.map((input, i) => ({ ...input, placementKey: segmentPlacementKey(plan.inputs[i].meta) }));
    await writeSegmentChunks(this.deps.objects, segment, this.info.schema);
    this.pendingOutputs.set(meta.segmentId, segment);
    try {
      const ts = await this.appendRecords(
        (t) =>
          new Map([[ch, { kind: 'compact', ts: t, collectionId: this.info.collectionId, partition: plan.partition, outputSegmentId: meta.segmentId, inputs } as WalRecordBody]]),
      );
      // The channel's datanode commits it; when that is another process, this one is done.
      if (this.applies(ch)) await this.waitForTs(ts, this.config.consistencyTimeoutMs * 6);
    } finally {
      this.pendingOutputs.delete(meta.segmentId);
    }
  }

  /** A flushed segment read with its vectors, carrying the deletes `seg` knows of. */
  private async readWhole(seg: Segment): Promise<Segment> {
    const whole = await readSegment(this.deps.objects, seg.meta, this.info.schema, { files: this.deps.localFiles });
    const deleted: number[] = [];
    for (let o = 0; o < seg.rowCount; o++) if (seg.isDeleted(o)) deleted.push(o);
    whole.applyDeltaLog(deleted);
    return whole;
  }

  private async applyCompact(ch: ChannelState, ts: bigint, body: Extract<WalRecordBody, { kind: 'compact' }>): Promise<void> {
    if (this.segments.has(body.outputSegmentId)) return; // committed before a restart
    const inputs = body.inputs.map((i) => this.segments.get(i.segmentId) ?? this.sealedSegmentAt((i as { placementKey?: string }).placementKey));
    if (inputs.every((s) => !s)) return; // committed before a restart (its output had no rows)
    if (inputs.some((s) => !s)) {
      this.log.warn(`compaction into segment ${body.outputSegmentId} skipped: an input segment is gone`, { channel: ch.name, segment: body.outputSegmentId });
      return;
    }
    const outMeta: SegmentMeta = {
      segmentId: body.outputSegmentId,
      collectionId: this.info.collectionId,
      partition: body.partition,
      channel: ch.index,
      state: 'Flushed',
      startPosition: 0n,
      prevTs: 0n,
      rowCount: inputs.reduce((n, s, i) => n + s!.rowCount - body.inputs[i].skipped.length, 0),
      sealRows: this.config.sealRows,
      sealBytes: this.config.sealBytes,
      indexFiles: {},
      compactedFrom: body.inputs.map((i) => i.segmentId),
    };
    const out = this.pendingOutputs.get(body.outputSegmentId) ?? (await this.openFlushed(outMeta, false));
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
    await writeDeltaLog(this.deps.objects, out, ts);
    out.syncDeletes = true;
    await this.pk.write(writes);
    // In-memory states change only after the catalog commit: a failed commit is retried, and
    // checkpoints meanwhile must still see the inputs as flushed.
    // An output with no rows is not kept. Inputs that hold a WAL range keep a Dropped meta until
    // no replay can reach the range; earlier compaction outputs hold none and go at once.
    const keepOutput = out.rowCount > 0;
    const ops: KvWrite[] = keepOutput ? [this.deps.catalog.putSegmentOp({ ...out.meta, state: 'Flushed' })] : [];
    for (const seg of inputs) {
      const m = seg!.meta;
      ops.push(m.endPosition !== undefined ? this.deps.catalog.putSegmentOp({ ...m, state: 'Dropped' }) : this.deps.catalog.deleteSegmentOp(m.collectionId, m.segmentId));
    }
    await this.deps.catalog.write(ops);
    out.meta.state = 'Flushed';
    if (keepOutput) this.segments.set(out.id, out);
    for (const seg of inputs) {
      seg!.meta.state = 'Dropped';
      this.segments.delete(seg!.id);
      if (seg!.meta.endPosition !== undefined) this.droppedMetas.add(seg!.meta);
      seg!.close();
    }
    if (keepOutput) this.indexLater(out);
    else await this.deleteSegmentObjects(out.meta);
    for (const seg of inputs) await this.deleteSegmentObjects(seg!.meta);
  }

  /** Deletes a dropped segment's objects and this process's cached copies of them. */
  private async deleteSegmentObjects(meta: SegmentMeta): Promise<void> {
    // Adopted index files are cached under the key of the segment that owns them, not this one's.
    for (const key of Object.values(meta.indexFiles)) this.deps.localFiles.remove(key);
    for (const prefix of segmentObjectPrefixes(meta)) {
      await this.deps.objects.deletePrefix(prefix);
      this.deps.localFiles.remove(prefix);
    }
  }

  /** The sealed or flushed segment with this placement key, if any. */
  private sealedSegmentAt(placementKey: string | undefined): Segment | undefined {
    if (placementKey === undefined) return undefined;
    for (const seg of this.segments.values()) {
      if (seg.meta.state !== 'Growing' && segmentPlacementKey(seg.meta) === placementKey) return seg;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- indexnode

  /** The index spec of a vector field, if it has one. */
  indexOf(field: string): IndexSpec | undefined {
    return this.info.indexes.find((i) => i.fieldName === field);
  }

  private async attachIndexes(seg: Segment): Promise<void> {
    for (const [fieldName, key] of Object.entries(seg.meta.indexFiles)) {
      const field = this.info.schema.fields.find((f) => f.name === fieldName);
      const spec = this.indexOf(fieldName);
      if (!field || !spec || spec.indexType === 'FLAT') continue;
      try {
        const file = await this.localFile(key);
        if (this.closed || seg.meta.state === 'Dropped' || !seg.resident || seg.indexes.has(fieldName)) continue; // compacted away or released meanwhile
        seg.indexes.set(fieldName, this.deps.vectorIndexes.view(file, indexParams(field, spec), seg.vectors(fieldName).data()));
      } catch (err) {
        // An unreadable or mismatched index file is rebuilt; searches scan the segment meanwhile.
        this.log.warn(`index ${key} of segment ${seg.id} is unusable, rebuilding it`, { segment: seg.id, error: err });
        delete seg.meta.indexFiles[fieldName];
      }
    }
  }

  private async localFile(key: string): Promise<string> {
    const local = this.deps.objects.localPath?.(key);
    if (local) return local;
    if (!this.deps.localFiles.exists(key)) this.deps.localFiles.writeFile(key, await this.deps.objects.get(key));
    return this.deps.localFiles.path(key);
  }

  /** Gets the segment indexed: by the indexnode when one is configured, else here (if it is resident). */
  private indexLater(seg: Segment): void {
    if (!seg.resident) return; // indexed here if a read ever takes it in
    if (this.roles.indexSegment) {
      if (this.needsIndex(seg.meta)) this.roles.indexSegment(seg.meta);
    } else this.scheduleIndexBuild(seg);
  }

  /** Whether a segment lacks the index of a vector field that has an HNSW spec. */
  private needsIndex(meta: SegmentMeta): boolean {
    return this.info.schema.fields.some((f) => hnswSpec(this.info, f) && !meta.indexFiles[f.name]);
  }

  /**
   * Queues HNSW builds for the segment's vector fields that have an index spec and no index yet;
   * where another process builds them (RuntimeRoles.sharedIndexFile), waits for its file first.
   */
  scheduleIndexBuild(seg: Segment): void {
    if (!seg.resident) return; // built if a read ever takes the segment in
    for (const field of this.info.schema.fields) {
      const spec = hnswSpec(this.info, field);
      if (!spec || seg.indexes.has(field.name)) continue;
      const build = () => this.deps.indexQueue.run(() => this.buildIndex(seg, field, spec));
      (this.roles.sharedIndexFile ? this.adoptIndex(seg, field, spec).then((adopted) => (adopted ? undefined : build())) : build()).catch((error) =>
        this.log.error(`building the index of segment ${seg.id} field ${field.name} failed (searches scan it exactly)`, { segment: seg.id, error }),
      );
    }
  }

  /**
   * Attaches the index file another process builds for the segment's rows once it exists (the
   * segment is scanned exactly meanwhile). False when none came in time or it is unusable: the
   * caller builds one here then.
   */
  private async adoptIndex(seg: Segment, field: FieldSchema, spec: IndexSpec): Promise<boolean> {
    const deadline = this.deps.clock.now() + SHARED_INDEX_WAIT_MS;
    const wanted = () => !this.closed && this.segments.has(seg.id) && seg.resident && !seg.indexes.has(field.name) && this.indexOf(field.name) === spec;
    while (wanted()) {
      const key = await this.roles.sharedIndexFile!(seg.meta, field.name);
      if (key) {
        const file = await this.localFile(key);
        if (!wanted()) return true;
        seg.meta.indexFiles[field.name] = key; // before the view: the vectors need not be read for it
        try {
          seg.indexes.set(field.name, this.deps.vectorIndexes.view(file, indexParams(field, spec), seg.vectors(field.name).data()));
        } catch (err) {
          delete seg.meta.indexFiles[field.name];
          this.log.warn(`the shared index ${key} does not fit segment ${seg.id}; building one here`, { segment: seg.id, error: err });
          return false;
        }
        await this.deps.catalog.write([this.deps.catalog.putSegmentOp(seg.meta)]);
        return true;
      }
      if (this.deps.clock.now() >= deadline) {
        this.log.warn(`no shared index for segment ${seg.id} field ${field.name} after ${SHARED_INDEX_WAIT_MS / 1000} s; building one here`, { segment: seg.id });
        return false;
      }
      await this.deps.clock.sleep(SHARED_INDEX_POLL_MS);
    }
    return true; // gone, released or indexed meanwhile: nothing left to do
  }

  private async buildIndex(seg: Segment, field: FieldSchema, spec: IndexSpec): Promise<void> {
    if (this.closed || !this.segments.has(seg.id) || seg.indexes.has(field.name) || this.indexOf(field.name) !== spec) return;
    const params = indexParams(field, spec);
    // The spec may change (or the segment go) during the build: the result is discarded then.
    const stale = () => this.closed || !this.segments.has(seg.id) || this.indexOf(field.name) !== spec;
    const key = await buildIndexFile(this.deps, seg, field, params, stale);
    if (!key) return;
    seg.meta.indexFiles[field.name] = key;
    await this.deps.catalog.write([this.deps.catalog.putSegmentOp(seg.meta)]);
    const file = await this.localFile(key);
    // Released during the build: the file is attached when a read takes the segment in again.
    if (!this.closed && seg.meta.state !== 'Dropped' && seg.resident && !seg.indexes.has(field.name))
      seg.indexes.set(field.name, this.deps.vectorIndexes.view(file, params, seg.vectors(field.name).data()));
  }

  /** Drops built indexes of a field (index dropped or replaced) and rebuilds per the current spec. */
  async resetIndexes(fieldName: string): Promise<void> {
    if (this.roles.indexSegment) return this.resetIndexesInCatalog(fieldName);
    const ops: KvWrite[] = [];
    for (const seg of this.segments.values()) {
      const idx = seg.indexes.get(fieldName);
      if (idx) {
        seg.indexes.delete(fieldName);
        idx.close();
      }
      if (seg.meta.indexFiles[fieldName]) {
        const key = seg.meta.indexFiles[fieldName];
        delete seg.meta.indexFiles[fieldName];
        ops.push(this.deps.catalog.putSegmentOp(seg.meta));
        await this.deps.objects.delete(key);
      }
      if (seg.meta.state === 'Flushed') this.scheduleIndexBuild(seg);
    }
    await this.deps.catalog.write(ops);
  }

  /** resetIndexes where an indexnode builds them: works on the catalog, not on loaded segments. */
  private async resetIndexesInCatalog(fieldName: string): Promise<void> {
    for (const meta of await this.deps.catalog.listSegments(this.info.collectionId)) {
      if (meta.state !== 'Flushed') continue;
      const key = meta.indexFiles[fieldName];
      if (key) {
        delete meta.indexFiles[fieldName];
        await this.deps.catalog.write([this.deps.catalog.putSegmentOp(meta)]);
        await this.deps.objects.delete(key);
      }
      if (this.needsIndex(meta)) this.roles.indexSegment!(meta);
    }
  }

  // ---------------------------------------------------------------- helpers and lifecycle

  /** The primary-key field. */
  pkField(): FieldSchema {
    return this.info.schema.fields.find((f) => f.isPrimary)!;
  }

  /** Live rows (all segments, deleted rows excluded), optionally of some partitions or of the segments in `scope`. */
  rowCount(partitions?: string[], scope?: SegmentScope): number {
    let n = 0;
    for (const seg of this.readableSegments(partitions, scope)) n += seg.liveCount;
    return n;
  }

  /**
   * Deletes the live rows of partitions that no longer exist (a drop interrupted by a crash, or
   * writes that raced it), so that a partition created again with that name starts empty.
   */
  async purgeDroppedPartitions(): Promise<void> {
    const byPartition = new Map<string, PrimaryKey[]>();
    for (const seg of this.segments.values()) {
      if (this.info.partitions.includes(seg.meta.partition)) continue;
      let pks = byPartition.get(seg.meta.partition);
      if (!pks) byPartition.set(seg.meta.partition, (pks = []));
      for (let o = 0; o < seg.rowCount; o++) if (!seg.isDeleted(o)) pks.push(seg.pks[o]);
    }
    for (const [partition, pks] of byPartition) if (pks.length > 0) await this.waitForTs(await this.appendDelete(pks, partition));
  }

  /** Segments to read, in creation order: of the given partitions (or every existing one), and in `scope` when given. */
  readableSegments(partitions: string[] = this.info.partitions, scope?: SegmentScope): Segment[] {
    const out = [...this.segments.values()].filter((s) => partitions.includes(s.meta.partition) && (!scope || scope(s.meta)));
    return out.sort((a, b) => a.id - b.id);
  }

  private assertOpen(): void {
    if (this.closed) throw new CollectionNotFoundError(this.info.name, undefined, `collection ${this.info.name} is closed or dropped`);
  }

  /** Stops background work and waits for running flushes. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.channels.map((c) => c.pumping));
    await Promise.all([...this.flushTasks.values()]);
    await Promise.all([...this.checkpointChain.values()]);
    this.deps.memory?.closed(
      this.segments.values(),
      this.channels.map((c) => c.name),
    );
    for (const seg of this.segments.values()) seg.close();
  }
}

/**
 * The error for a write whose WAL appends failed on some channels: a full disk becomes a
 * DiskLimitError (Milvus code 7), saying whether any channel's share was written.
 */
function appendFailure(failed: Error[], channels: number): Error {
  const full = failed.find((e) => e instanceof DiskFullError);
  if (!full) return failed[0];
  const written = failed.length < channels || failed.some((e) => !(e instanceof DiskFullError));
  return new DiskLimitError(channels, written ? channels - failed.length : undefined, full);
}

/**
 * How far the WAL must reach for a segment's metadata to hold: a durable segment's end (the replay
 * skips positions below it), an unflushed one's opening record (the replay rebuilds it from there).
 */
export function walReach(meta: SegmentMeta): bigint {
  const durable = meta.state === 'Flushed' || meta.state === 'Dropped';
  return durable && meta.endPosition !== undefined ? meta.endPosition : meta.startPosition + 1n;
}

/** The rows `rows` of a batch, as a new batch. */
function sliceBatch(batch: InsertBatch, rows: number[]): InsertBatch {
  const columns = new Map<string, InsertBatch['columns'] extends Map<string, infer V> ? V : never>();
  for (const [name, values] of batch.columns)
    columns.set(
      name,
      rows.map((r) => values[r]),
    );
  return { rowCount: rows.length, columns, dynamic: batch.dynamic ? rows.map((r) => batch.dynamic![r]) : null };
}
