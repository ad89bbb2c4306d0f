/**
 * The engine's `Database`: the proxy (validate, assign ids and timestamps, route to channels, fan
 * out reads) and the coordinator (catalog DDL) over one set of ports. Deployments construct it with
 * their adapters; the embedded server and the API Lambda share it.
 *
 * A collection that fails to open (a damaged catalog entry, segment or chunk) is kept listed as
 * damaged with the reason: describe and get_load_state show it, reads and writes to it are refused
 * naming the damage, it can be dropped, and every other collection is served.
 */
import { Catalog } from './catalog/catalog.ts';
import { AutoIdAllocator } from './catalog/id-blocks.ts';
import { channelName, type ChannelState } from './channel-state.ts';
import { CollectionRuntime, TaskQueue, type RuntimeDeps, type RuntimeRoles } from './collection-runtime.ts';
import type { CollectionSpec, CompactionState, Database, IndexStatus, LoadState, QueryRequest, ReadOptions, Row, SearchRequest, WriteResult } from './database.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from './engine-config.ts';
import {
  AliasConflictError,
  AliasExistsError,
  AliasNotFoundError,
  CollectionDamagedError,
  CollectionNotFoundError,
  CollectionNotLoadedError,
  CorruptDataError,
  DatabaseNotFoundError,
  IndexInUseError,
  IndexNotFoundError,
  InvalidParameterError,
  MissingParameterError,
  NotFoundError,
  PartitionNotFoundError,
  collectionNotFound,
  invalidParameter,
} from './errors.ts';
import { compileFilter } from './filter/compile-filter.ts';
import { GrowingMemory, type GrowingUsage } from './growing-memory.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { KvStore } from './ports/kv-store.ts';
import type { LocalFiles } from './ports/local-files.ts';
import { NOOP_LOGGER, type Logger } from './ports/logger.ts';
import type { ObjectStore } from './ports/object-store.ts';
import type { VectorIndexFactory } from './ports/vector-index.ts';
import type { Wal } from './ports/wal.ts';
import { countRows, getRows, materialize, planOutput, queryRows, searchVector, type SearchPlan } from './read-path.ts';
import { planGet, planQuery, planSearch } from './read/planner.ts';
import { PkIndex } from './pk-index.ts';
import { rowsToBatch } from './schema/rows-to-batch.ts';
import { collectionObjectPrefixes } from './catalog/key-layout.ts';
import { estimatedRowBytes } from './segment/segment.ts';
import type { CollectionInfo, ConsistencyLevel, IndexSpec, PrimaryKey } from './schema/types.ts';
import { Tso, composeTs } from './tso.ts';

/** The adapters and settings an EngineDatabase runs on. */
export interface EngineDatabaseOptions {
  kv: KvStore;
  wal: Wal;
  objects: ObjectStore;
  vectorIndexes: VectorIndexFactory;
  /** Local area for downloaded index files and chunks, and index builds (e.g. FolderLocalFiles over `<data>/cache`). */
  localFiles: LocalFiles;
  /** Time for the engine's waits (default: the real clock). */
  clock?: Clock;
  config?: Partial<EngineConfig>;
  /** The roles this process plays (default: all, the embedded deployment). */
  roles?: RuntimeRoles;
  /**
   * Other processes write the WAL and the catalog (AWS): poll the WAL tails and the catalog every
   * this many ms, and learn the tails before a consistency wait. Also turns off idle sealing and
   * scheduled compaction here (on AWS the datanodes' sweep and the compactor do them).
   */
  followMs?: number;
  /** Seal idle segments and compact on a timer (default true; off where scheduled roles do it, as on AWS). */
  maintain?: boolean;
  /** Where collections are discovered when it is not this database's own catalog (a querynode's shared catalog). */
  catalogSource?: Catalog;
  /** Runs before a collection discovered in `catalogSource` is opened (copies what the private catalog needs). */
  beforeOpen?: (info: CollectionInfo) => Promise<void>;
  /** Runs last in close, after every port is closed (the embedded deployment releases its data-directory lock). */
  onClose?: () => void;
  /** Where faults and events are logged (default: nowhere; every deployment passes its logger). */
  logger?: Logger;
}

const DEFAULT_DB = 'default';
/** Channels tried when dropping a collection whose catalog entry (and so its shard count) is unreadable: Milvus's maximum. */
const MAX_SHARDS = 16;

/** A collection that could not be opened. */
interface DamagedCollection {
  info: CollectionInfo;
  reason: string;
  /** The error that made it damaged. */
  cause: Error;
  /** The failure was not damage found in the data (an I/O or network error): a catalog refresh tries again. */
  transient: boolean;
}
const DEFAULT_PARTITION = '_default';
const MAINTENANCE_INTERVAL_MS = 1000;

/** Database implementation over the engine's ports. */
export class EngineDatabase implements Database {
  private readonly runtimes = new Map<number, CollectionRuntime>();
  /** Collections found damaged when opened, by id: listed, refused for reads and writes. */
  private readonly damaged = new Map<number, DamagedCollection>();
  private readonly deps: RuntimeDeps;
  private readonly compactions = new Map<number, CompactionState>();
  private readonly compactionRuns = new Map<CollectionRuntime, Promise<number>>();
  private lastCompactionAt: number;
  private timer: NodeJS.Timeout | undefined;
  /** Serializes DDL so concurrent creates and drops see each other. */
  private readonly ddl = new TaskQueue();
  private readonly follows: boolean;
  private lastRefreshAt = 0;
  /** Set by close: catalog refreshes queued behind it open nothing. */
  private closed = false;

  private readonly options: EngineDatabaseOptions;
  /** AutoIDs come from blocks claimed in the shared KV: no two processes ever assign the same key. */
  private readonly autoIds: AutoIdAllocator;

  private constructor(options: EngineDatabaseOptions) {
    this.options = options;
    this.follows = options.followMs !== undefined;
    this.autoIds = new AutoIdAllocator(options.kv);
    const config = { ...DEFAULT_ENGINE_CONFIG, ...options.config };
    this.deps = {
      wal: options.wal,
      objects: options.objects,
      catalog: new Catalog(options.kv),
      tso: new Tso(),
      config,
      localFiles: options.localFiles,
      vectorIndexes: options.vectorIndexes,
      clock: options.clock ?? systemClock,
      indexQueue: new TaskQueue(),
      roles: options.roles,
      logger: options.logger ?? NOOP_LOGGER,
      // Where this process keeps its own segments (not a follower, not a role of a fleet whose
      // scheduled sweep seals): growing data stays under one budget.
      memory: this.follows || options.maintain === false ? undefined : new GrowingMemory(config.growingBudgetBytes),
    };
    this.lastCompactionAt = this.deps.clock.now();
  }

  /** The logger this database writes to (its runtimes bind their collection's name). */
  private get log(): Logger {
    return this.deps.logger;
  }

  /** Growing data held against the memory budget (undefined where no budget is kept). */
  growingUsage(): GrowingUsage | undefined {
    return this.deps.memory?.usage();
  }

  /** Opens the catalog and every collection (replaying WALs from their checkpoints). */
  static async open(options: EngineDatabaseOptions): Promise<EngineDatabase> {
    const db = new EngineDatabase(options);
    await db.deps.catalog.checkFormat();
    if (!options.catalogSource) await db.finishPendingDrops();
    if (db.follows) {
      await db.refreshCatalog();
      db.timer = setInterval(() => db.follow(), options.followMs);
    } else {
      const { infos, damaged } = await db.deps.catalog.scanCollections();
      for (const d of damaged) db.markDamaged(unreadableInfo(d.collectionId), `its catalog entry ${d.key} cannot be read (${d.error.message})`, d.error);
      for (const info of infos) {
        const rt = await db.openOrMarkDamaged(info);
        rt?.purgeDroppedPartitions().catch((error) =>
          db.log.error(`finishing a partition drop of ${info.name} failed (retried on the next create or restart)`, { collection: info.name, error }),
        );
      }
      if (options.maintain !== false) db.timer = setInterval(() => db.maintain(), MAINTENANCE_INTERVAL_MS);
    }
    db.timer?.unref();
    return db;
  }

  /** Opens a collection; one that fails to open is marked damaged (and undefined returned) instead of failing the others. */
  private async openOrMarkDamaged(info: CollectionInfo): Promise<CollectionRuntime | undefined> {
    try {
      const rt = await this.openRuntime(info);
      this.damaged.delete(info.collectionId);
      return rt;
    } catch (err) {
      this.markDamaged(info, `${(err as Error).name}: ${(err as Error).message}`, err as Error, !(err instanceof CorruptDataError || err instanceof NotFoundError));
      return undefined;
    }
  }

  private markDamaged(info: CollectionInfo, reason: string, cause: Error, transient = false): void {
    const known = this.damaged.get(info.collectionId);
    this.damaged.set(info.collectionId, { info, reason, cause, transient });
    if (known?.reason === reason) return; // logged already
    this.log.error(`collection ${info.name} (id ${info.collectionId}) is damaged and not served (the other collections are): ${reason}`, {
      collection: info.name,
      collectionId: info.collectionId,
      error: cause,
    });
  }

  private async openRuntime(info: CollectionInfo): Promise<CollectionRuntime> {
    const rt = await CollectionRuntime.open(info, this.deps);
    this.runtimes.set(info.collectionId, rt);
    // Timestamps stay monotonic across restarts even if the clock went back.
    for (const ch of rt.channels) this.deps.tso.observe(ch.lastTs);
    return rt;
  }

  /**
   * Brings the open collections in line with the catalog, which other processes change: opens new
   * ones, adopts changed descriptions (rebuilding indexes whose spec changed, where this process
   * builds them) and closes dropped ones.
   */
  refreshCatalog(): Promise<void> {
    return this.ddl.run(async () => {
      if (this.closed) return;
      this.lastRefreshAt = this.deps.clock.now();
      const { infos, damaged } = await (this.options.catalogSource ?? this.deps.catalog).scanCollections();
      const seen = new Set(infos.map((i) => i.collectionId));
      for (const d of damaged) seen.add(d.collectionId);
      for (const [id, rt] of this.runtimes) {
        if (seen.has(id)) continue;
        this.runtimes.delete(id);
        await rt.close();
      }
      for (const id of this.damaged.keys()) if (!seen.has(id)) this.damaged.delete(id);
      for (const d of damaged)
        if (!this.runtimes.has(d.collectionId)) this.markDamaged(unreadableInfo(d.collectionId), `its catalog entry ${d.key} cannot be read (${d.error.message})`, d.error);
      for (const info of infos) {
        const rt = this.runtimes.get(info.collectionId);
        if (!rt) {
          // A damaged collection is tried again when its catalog entry changes or its failure may pass.
          const known = this.damaged.get(info.collectionId);
          if (known && !known.transient && jsonText(known.info) === jsonText(info)) continue;
          try {
            await this.options.beforeOpen?.(info);
          } catch (err) {
            this.markDamaged(info, `${(err as Error).name}: ${(err as Error).message}`, err as Error, true);
            continue;
          }
          await this.openOrMarkDamaged(info);
          continue;
        }
        if (jsonText(rt.info) === jsonText(info)) continue;
        // Unchanged index specs keep their identity: builds in flight for them stay valid.
        const before = rt.info.indexes;
        info.indexes = info.indexes.map((s) => before.find((b) => jsonText(b) === jsonText(s)) ?? s);
        const changed = info.schema.fields.filter((f) => before.find((b) => b.fieldName === f.name) !== info.indexes.find((i) => i.fieldName === f.name));
        rt.info = info;
        if (this.options.catalogSource) await this.deps.catalog.putCollection(info);
        if (!this.deps.roles?.indexSegment) for (const f of changed) await rt.resetIndexes(f.name);
      }
    });
  }

  /** Closes a collection's runtime and opens it again from the catalog (its roles' channels changed). */
  reopenCollection(collectionId: number): Promise<CollectionRuntime | undefined> {
    return this.ddl.run(async () => {
      if (this.closed) return undefined;
      const rt = this.runtimes.get(collectionId);
      if (rt) {
        this.runtimes.delete(collectionId);
        await rt.close();
      }
      const info = await this.deps.catalog.getCollection(collectionId);
      return info ? this.openRuntime(info) : undefined;
    });
  }

  /** The open runtime of a collection id, if any. */
  runtimeById(collectionId: number): CollectionRuntime | undefined {
    return this.runtimes.get(collectionId);
  }

  /** The channels whose last apply attempt failed, with the error (retried in the background meanwhile). */
  applyErrors(): { channel: string; error: Error }[] {
    const out: { channel: string; error: Error }[] = [];
    for (const rt of this.runtimes.values()) for (const ch of rt.channels) if (ch.error) out.push({ channel: ch.name, error: ch.error });
    return out;
  }

  /** Refreshes the catalog when it was last read more than `maxAgeMs` ago. */
  async refreshCatalogIfOlder(maxAgeMs: number): Promise<void> {
    if (this.deps.clock.now() - this.lastRefreshAt > maxAgeMs) await this.refreshCatalog();
  }

  private following = false;

  private follow(): void {
    if (this.following) return;
    this.following = true;
    const work = async () => {
      await this.refreshCatalogIfOlder(MAINTENANCE_INTERVAL_MS);
      await Promise.all([...this.runtimes.values()].map((rt) => rt.followTails()));
    };
    work()
      .catch((error) => this.log.warn('following the WAL and the catalog failed (retrying)', { error }))
      .finally(() => (this.following = false));
  }

  private maintain(): void {
    const now = this.deps.clock.now();
    for (const rt of this.runtimes.values()) rt.sealIdle(now);
    const every = this.deps.config.compactionIntervalMs;
    if (every > 0 && now - this.lastCompactionAt >= every) {
      this.lastCompactionAt = now;
      for (const rt of this.runtimes.values()) this.runCompaction(rt).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- name resolution

  private checkDb(db: string): void {
    if ((db || DEFAULT_DB) !== DEFAULT_DB) throw new DatabaseNotFoundError(db);
  }

  private find(db: string, name: string): CollectionRuntime | undefined {
    this.checkDb(db);
    for (const rt of this.runtimes.values()) if (rt.info.name === name) return rt;
    for (const rt of this.runtimes.values()) if (rt.info.aliases.includes(name)) return rt;
    return undefined;
  }

  /** The damaged collection called `name` (or aliased so), if any. */
  private findDamaged(name: string): DamagedCollection | undefined {
    for (const d of this.damaged.values()) if (d.info.name === name || d.info.aliases.includes(name)) return d;
    return undefined;
  }

  /** Whether `name` is taken by a collection or an alias, damaged ones included. */
  private nameTaken(db: string, name: string): boolean {
    return this.find(db, name) !== undefined || this.findDamaged(name) !== undefined;
  }

  private runtime(db: string, name: string): CollectionRuntime {
    const rt = this.find(db, name);
    if (rt) return rt;
    const damaged = this.findDamaged(name);
    if (damaged) throw damagedError(damaged);
    throw collectionNotFound(name, db || DEFAULT_DB);
  }

  private loaded(db: string, name: string): CollectionRuntime {
    const rt = this.runtime(db, name);
    if (!rt.info.loaded) throw new CollectionNotLoadedError(name);
    return rt;
  }

  private async save(rt: CollectionRuntime): Promise<void> {
    await this.deps.catalog.putCollection(rt.info);
  }

  // ---------------------------------------------------------------- databases

  async listDatabases(): Promise<string[]> {
    return [DEFAULT_DB];
  }

  async describeDatabase(db: string): Promise<{ dbName: string; dbId: number; properties: Record<string, string> }> {
    this.checkDb(db);
    return { dbName: DEFAULT_DB, dbId: 1, properties: {} };
  }

  // ---------------------------------------------------------------- collections

  createCollection(db: string, spec: CollectionSpec): Promise<void> {
    return this.ddl.run(async () => {
      const existing = this.find(db, spec.name) ?? this.findDamaged(spec.name);
      if (existing) {
        if (existing.info.name !== spec.name) throw invalidParameter(`collection name ${spec.name} conflicts with an existing alias`);
        throw new InvalidParameterError(`collection already exists: ${spec.name}; drop it first or choose another name`);
      }
      const info: CollectionInfo = {
        collectionId: await this.deps.catalog.allocateId(),
        name: spec.name,
        dbName: DEFAULT_DB,
        description: spec.description,
        schema: spec.schema,
        shardsNum: spec.shardsNum,
        consistencyLevel: spec.consistencyLevel,
        partitions: [DEFAULT_PARTITION],
        indexes: [],
        aliases: [],
        properties: spec.properties,
        loaded: false,
        createdTs: this.deps.tso.allocate(),
      };
      for (const idx of spec.indexes) addIndex(info, idx);
      info.loaded = spec.load && info.indexes.length > 0 && allVectorFieldsIndexed(info);
      await this.deps.catalog.putCollection(info);
      await this.openRuntime(info);
    });
  }

  dropCollection(db: string, name: string): Promise<void> {
    return this.ddl.run(async () => {
      const rt = this.find(db, name);
      const damaged = rt ? undefined : this.findDamaged(name);
      if (damaged) {
        if (damaged.info.name !== name) throw invalidParameter(`${name} is an alias of ${damaged.info.name}; drop the collection by its name`);
        await this.deps.catalog.markDropping(damaged.info);
        this.damaged.delete(damaged.info.collectionId);
        await this.removeDropped(damaged.info);
        return;
      }
      if (!rt) return;
      if (rt.info.name !== name) throw invalidParameter(`${name} is an alias of ${rt.info.name}; drop the alias, or drop the collection by its name`);
      // The intent is durable before anything is deleted: a crash from here on is finished by the next open.
      await this.deps.catalog.markDropping(rt.info);
      this.runtimes.delete(rt.info.collectionId);
      await rt.close();
      await this.removeDropped(rt.info);
    });
  }

  /** Deletes every trace of a collection whose drop intent is recorded: WAL channels, objects, PK index, metadata. */
  private async removeDropped(info: CollectionInfo): Promise<void> {
    const channels = Array.from({ length: info.shardsNum }, (_, i) => channelName(info.collectionId, i));
    for (const ch of channels) await this.deps.wal.dropChannel(ch);
    for (const prefix of collectionObjectPrefixes(info.collectionId)) await this.deps.objects.deletePrefix(prefix);
    await new PkIndex(this.deps.catalog.kv, info.collectionId).drop();
    await this.deps.catalog.finishDrop(info.collectionId, channels);
  }

  /** Finishes drops a crash interrupted (their collections are no longer listed; their files still are). */
  private async finishPendingDrops(): Promise<void> {
    for (const info of await this.deps.catalog.listDropping()) {
      try {
        await this.removeDropped(info);
      } catch (error) {
        this.log.error(`finishing the drop of collection ${info.name} (id ${info.collectionId}) failed; it is retried on the next start`, { collection: info.name, error });
      }
    }
  }

  async listCollections(db: string): Promise<string[]> {
    this.checkDb(db);
    return [...this.runtimes.values(), ...this.damaged.values()].map((r) => r.info.name).sort();
  }

  async hasCollection(db: string, name: string): Promise<boolean> {
    return this.nameTaken(db, name);
  }

  async describeCollection(db: string, name: string): Promise<CollectionInfo & { loadState: LoadState; loadFailure?: string }> {
    const damaged = this.find(db, name) ? undefined : this.findDamaged(name);
    if (damaged) return { ...damaged.info, loadState: 'LoadStateNotLoad', loadFailure: damagedError(damaged).message };
    const rt = this.runtime(db, name);
    return { ...rt.info, loadState: rt.info.loaded ? 'LoadStateLoaded' : 'LoadStateNotLoad' };
  }

  renameCollection(db: string, name: string, newName: string, newDb?: string): Promise<void> {
    return this.ddl.run(async () => {
      if (newDb) this.checkDb(newDb);
      const rt = this.runtime(db, name);
      if (rt.info.name !== name) throw invalidParameter(`${name} is an alias; rename the collection ${rt.info.name} instead`);
      if (this.nameTaken(db, newName)) throw invalidParameter(`duplicated new collection name ${newName}; it is already a collection or alias`);
      rt.info.name = newName;
      await this.save(rt);
    });
  }

  async getCollectionStats(db: string, name: string): Promise<{ rowCount: number }> {
    const rt = this.runtime(db, name);
    await this.caughtUp(rt);
    return { rowCount: rt.rowCount() };
  }

  async loadCollection(db: string, name: string): Promise<void> {
    const rt = this.runtime(db, name);
    const missing = rt.info.schema.fields.filter((f) => f.dataType === 'FloatVector' && !rt.indexOf(f.name)).map((f) => f.name);
    if (missing.length > 0) {
      throw new IndexNotFoundError(name, undefined, `there is no vector index on field: [${missing.join(', ')}], please create index firstly: collection=${name}: index not found`);
    }
    if (!rt.info.loaded) {
      rt.info.loaded = true;
      await this.save(rt);
    }
  }

  async releaseCollection(db: string, name: string): Promise<void> {
    const rt = this.runtime(db, name);
    if (rt.info.loaded) {
      rt.info.loaded = false;
      await this.save(rt);
    }
  }

  async getLoadState(db: string, name: string): Promise<{ loadState: LoadState; loadProgress: number; message?: string }> {
    const rt = this.find(db, name);
    const damaged = rt ? undefined : this.findDamaged(name);
    if (damaged) return { loadState: 'LoadStateNotLoad', loadProgress: 0, message: damagedError(damaged).message };
    if (!rt) throw new CollectionNotFoundError(name, undefined, `collection not found[collection=${name}]`);
    return rt.info.loaded ? { loadState: 'LoadStateLoaded', loadProgress: 100 } : { loadState: 'LoadStateNotLoad', loadProgress: 0 };
  }

  async refreshLoad(db: string, name: string): Promise<void> {
    this.loaded(db, name);
  }

  async flush(db: string, name: string): Promise<void> {
    await this.runtime(db, name).flush();
  }

  async compact(db: string, name: string): Promise<number> {
    const rt = this.runtime(db, name);
    const compactionId = await this.deps.catalog.allocateId();
    const state: CompactionState = { compactionId, state: 'Executing', executingPlanNumber: 1, completedPlanNumber: 0 };
    this.compactions.set(compactionId, state);
    this.runCompaction(rt)
      .then((plans) => Object.assign(state, { state: 'Completed', executingPlanNumber: 0, completedPlanNumber: plans }))
      .catch(() => Object.assign(state, { state: 'Completed', executingPlanNumber: 0 }));
    return compactionId;
  }

  /** Runs a collection's compactions unless they are already running. */
  private runCompaction(rt: CollectionRuntime): Promise<number> {
    const running = this.compactionRuns.get(rt);
    if (running) return running;
    const run = rt
      .compact()
      .catch((err) => {
        this.log.error(`compaction of ${rt.info.name} failed (it is retried later)`, { collection: rt.info.name, error: err });
        throw err;
      })
      .finally(() => this.compactionRuns.delete(rt));
    this.compactionRuns.set(rt, run);
    return run;
  }

  async getCompactionState(compactionId: number): Promise<CompactionState> {
    return this.compactions.get(compactionId) ?? { compactionId, state: 'UndefiedState', executingPlanNumber: 0, completedPlanNumber: 0 };
  }

  async alterProperties(db: string, name: string, properties: Record<string, string>): Promise<void> {
    const rt = this.runtime(db, name);
    Object.assign(rt.info.properties, properties);
    await this.save(rt);
  }

  async dropProperties(db: string, name: string, keys: string[]): Promise<void> {
    const rt = this.runtime(db, name);
    for (const k of keys) delete rt.info.properties[k];
    await this.save(rt);
  }

  // ---------------------------------------------------------------- writes

  private partitionOf(rt: CollectionRuntime, partitionName: string | undefined): string {
    const p = partitionName || DEFAULT_PARTITION;
    if (!rt.info.partitions.includes(p)) throw new PartitionNotFoundError(rt.info.name, p);
    return p;
  }

  async insert(db: string, name: string, rows: unknown[], options: { partitionName?: string; upsert: boolean }): Promise<WriteResult> {
    const rt = this.runtime(db, name);
    const partition = this.partitionOf(rt, options.partitionName);
    const batch = rowsToBatch(rt.info.schema, rows, options.upsert ? 'upsert' : 'insert');
    const pkField = rt.pkField();
    if (pkField.autoId && !options.upsert) {
      const ids = await this.autoIds.allocate(batch.rowCount);
      batch.columns.set(pkField.name, pkField.dataType === 'Int64' ? ids : ids.map(String));
    }
    const pks = batch.columns.get(pkField.name) as PrimaryKey[];
    // Refused before anything is appended when growing data is at its limit (MemoryQuotaError).
    const rowBytes = estimatedRowBytes(rt.info.schema);
    const admission = this.deps.memory?.admit(batch.rowCount * rowBytes);
    const place =
      admission &&
      ((ts: bigint, rowsByChannel: Map<ChannelState, number[]>) =>
        admission.place([...rowsByChannel].filter(([ch]) => rt.applies(ch)).map(([ch, rows]) => ({ channel: ch.name, ts, bytes: rows.length * rowBytes }))));
    let sessionToken: bigint;
    try {
      sessionToken = await rt.appendInsert(batch, pks, partition, options.upsert, place);
    } catch (err) {
      admission?.cancel();
      throw err;
    }
    return { ids: pks, sessionToken };
  }

  async delete(
    db: string,
    name: string,
    filter: string,
    options: { partitionName?: string; exprParams?: Record<string, unknown> },
  ): Promise<{ deleteCount: number; sessionToken: bigint }> {
    const rt = this.runtime(db, name);
    const partition = options.partitionName ? this.partitionOf(rt, options.partitionName) : '';
    if (!filter || filter.trim() === '') throw invalidParameter('delete needs a filter; to delete everything use a filter that matches every row, e.g. "id >= 0"');
    const compiled = compileFilter(filter, rt.info.schema, options.exprParams);
    let pks = compiled.primaryKeys;
    if (!pks) {
      // Resolve the filter against everything acknowledged so far, then delete exactly those keys.
      await this.caughtUp(rt);
      const rows = await queryRows(rt, compiled, { limit: -1, offset: 0, partitions: partition ? [partition] : undefined, unordered: true });
      pks = rows.map((r) => r.segment.pks[r.offset]);
    }
    if (pks.length === 0) return { deleteCount: 0, sessionToken: this.deps.tso.now() };
    const sessionToken = await rt.appendDelete(pks, partition);
    return { deleteCount: pks.length, sessionToken };
  }

  // ---------------------------------------------------------------- reads

  private guaranteeTs(rt: CollectionRuntime, options: ReadOptions): bigint {
    const level: ConsistencyLevel = options.consistencyLevel ?? rt.info.consistencyLevel;
    switch (level) {
      case 'Strong':
        return this.deps.tso.now();
      case 'Bounded':
        return composeTs(this.deps.clock.now() - this.deps.config.gracefulTimeMs, 0);
      case 'Session':
      case 'Customized':
        return options.sessionToken ?? 0n;
      default:
        return 0n;
    }
  }

  /** Waits until everything acknowledged so far is applied. */
  private async caughtUp(rt: CollectionRuntime): Promise<void> {
    if (this.follows) await rt.followTails();
    await rt.waitForTs(this.deps.tso.now());
  }

  private async readable(db: string, name: string, options: ReadOptions): Promise<CollectionRuntime> {
    const rt = this.loaded(db, name);
    if (options.partitionNames) for (const p of options.partitionNames) this.partitionOf(rt, p);
    const ts = this.guaranteeTs(rt, options);
    if (ts > 0n && this.follows) await rt.followTails();
    if (ts > 0n) await rt.waitForTs(ts);
    return rt;
  }

  /**
   * Brings each collection's memory in line with the roles' `resident` (RuntimeRoles): segments
   * that turned resident are taken in, the others go back to disk once no read needed them for
   * `idleMs`. A querynode calls it when its view of the fleet changes, and now and then.
   */
  async applyResidency(idleMs: number): Promise<void> {
    for (const rt of [...this.runtimes.values()]) await rt.applyResidency(idleMs);
  }

  private partitions(options: ReadOptions): string[] | undefined {
    return options.partitionNames && options.partitionNames.length > 0 ? options.partitionNames : undefined;
  }

  async get(db: string, name: string, ids: PrimaryKey[], options: ReadOptions): Promise<Row[]> {
    const rt = await this.readable(db, name, options);
    const plan = planOutput(rt, planGet(options.outputFields));
    const rows = await getRows(rt, ids, this.partitions(options), options.scope);
    return rows.map((r) => materialize(rt, r.segment, r.offset, plan));
  }

  async query(db: string, name: string, request: QueryRequest): Promise<Row[]> {
    const rt = await this.readable(db, name, request);
    const planned = planQuery(rt.info, request);
    if (planned.kind === 'count') return [{ 'count(*)': await countRows(rt, planned.filter, this.partitions(request), request.scope) }];
    const plan = planOutput(rt, planned.outputFields);
    // Primary-key order (Milvus's): the same in every process, so the shares of a fanned-out
    // query also merge by key into the answer one node holding every segment gives.
    const rows = await queryRows(rt, planned.filter, { limit: planned.limit, offset: planned.offset, partitions: this.partitions(request), scope: request.scope });
    return rows.map((r) => materialize(rt, r.segment, r.offset, plan));
  }

  async search(db: string, name: string, request: SearchRequest): Promise<Row[][]> {
    const rt = await this.readable(db, name, request);
    // Searches need the segments' vectors and indexes in memory; gets and queries read the few
    // vectors they return from a released segment's local file.
    await rt.makeResident(request.scope);
    const planned = planSearch(rt.info, request, this.deps.config.defaultSearchEf);
    const plan: SearchPlan = { ...planned, partitions: this.partitions(request), scope: request.scope };
    const output = planOutput(rt, planned.outputFields);
    return request.vectors.map((q) => searchVector(rt, q, plan, this.deps.config).map((h) => materialize(rt, h.segment, h.offset, output, { distance: h.score })));
  }

  // ---------------------------------------------------------------- indexes

  async createIndex(db: string, name: string, specs: IndexSpec[]): Promise<void> {
    const rt = this.runtime(db, name);
    const changed: string[] = [];
    for (const spec of specs) {
      const field = rt.info.schema.fields.find((f) => f.name === spec.fieldName);
      if (!field) throw new MissingParameterError(spec.fieldName, `missing required parameters, error: \`${spec.fieldName}\` hasn't defined in schema`);
      if (field.dataType !== 'FloatVector')
        throw invalidParameter(`${spec.indexType} index is for vector fields; ${field.name} is ${field.dataType} (scalar indexes are not supported yet)`);
      if (addIndex(rt.info, spec)) changed.push(field.name);
    }
    await this.save(rt);
    for (const f of changed) await rt.resetIndexes(f);
  }

  async describeIndex(db: string, name: string, indexName: string): Promise<IndexStatus[]> {
    const rt = this.runtime(db, name);
    const specs = rt.info.indexes.filter((i) => !indexName || i.indexName === indexName);
    if (specs.length === 0) throw new IndexNotFoundError(rt.info.name, indexName || undefined, `index not found[indexName=${indexName}]`);
    return specs.map((spec) => {
      let total = 0;
      let indexed = 0;
      let flushedUnindexed = 0;
      for (const seg of rt.segments.values()) {
        total += seg.liveCount;
        if (seg.indexes.has(spec.fieldName) || spec.indexType === 'FLAT') indexed += seg.liveCount;
        else if (seg.meta.state === 'Flushed') flushedUnindexed++;
      }
      return { ...spec, totalRows: total, indexedRows: indexed, pendingRows: total - indexed, state: flushedUnindexed === 0 ? 'Finished' : 'InProgress' };
    });
  }

  async listIndexes(db: string, name: string): Promise<string[]> {
    return this.runtime(db, name).info.indexes.map((i) => i.indexName);
  }

  async dropIndex(db: string, name: string, indexName: string): Promise<void> {
    const rt = this.runtime(db, name);
    const spec = rt.info.indexes.find((i) => i.indexName === indexName);
    if (!spec) throw new IndexNotFoundError(rt.info.name, indexName, `index not found[indexName=${indexName}]`);
    if (rt.info.loaded) throw new IndexInUseError(rt.info.name, indexName);
    rt.info.indexes = rt.info.indexes.filter((i) => i !== spec);
    await this.save(rt);
    await rt.resetIndexes(spec.fieldName);
  }

  // ---------------------------------------------------------------- partitions

  createPartition(db: string, name: string, partition: string): Promise<void> {
    return this.ddl.run(async () => {
      const rt = this.runtime(db, name);
      if (rt.info.partitions.includes(partition)) throw invalidParameter(`partition already exists[partition=${partition}]`);
      await rt.purgeDroppedPartitions(); // leftovers of an earlier partition of that name
      rt.info.partitions.push(partition);
      await this.save(rt);
    });
  }

  dropPartition(db: string, name: string, partition: string): Promise<void> {
    return this.ddl.run(async () => {
      const rt = this.runtime(db, name);
      if (partition === DEFAULT_PARTITION) throw invalidParameter('default partition cannot be deleted');
      if (!rt.info.partitions.includes(partition)) return;
      // Hide the partition first: new writes are refused and reads skip it. Writes already past the
      // partition check are in flight now; once they are applied, delete everything it holds.
      rt.info.partitions = rt.info.partitions.filter((p) => p !== partition);
      await this.save(rt);
      await this.caughtUp(rt);
      await rt.purgeDroppedPartitions();
    });
  }

  async listPartitions(db: string, name: string): Promise<string[]> {
    return [...this.runtime(db, name).info.partitions];
  }

  async hasPartition(db: string, name: string, partition: string): Promise<boolean> {
    return this.runtime(db, name).info.partitions.includes(partition);
  }

  async loadPartitions(db: string, name: string, partitions: string[]): Promise<void> {
    const rt = this.runtime(db, name);
    for (const p of partitions) this.partitionOf(rt, p);
    await this.loadCollection(db, name);
  }

  async releasePartitions(db: string, name: string, partitions: string[]): Promise<void> {
    const rt = this.runtime(db, name);
    for (const p of partitions) this.partitionOf(rt, p);
  }

  async getPartitionStats(db: string, name: string, partition: string): Promise<{ rowCount: number }> {
    const rt = this.runtime(db, name);
    const p = this.partitionOf(rt, partition);
    await this.caughtUp(rt);
    return { rowCount: rt.rowCount([p]) };
  }

  // ---------------------------------------------------------------- aliases

  /** Alias changes go through the DDL queue: a concurrent create of a collection with that name sees them. */
  createAlias(db: string, collection: string, alias: string): Promise<void> {
    return this.ddl.run(async () => {
      const rt = this.runtime(db, collection);
      if (rt.info.name !== collection) throw invalidParameter(`${collection} is an alias; aliases point at collections`);
      const other = this.find(db, alias) ?? this.findDamaged(alias);
      if (other) {
        if (other.info.name === alias) throw new AliasConflictError(db, alias);
        throw new AliasExistsError(db, alias);
      }
      rt.info.aliases.push(alias);
      await this.save(rt);
    });
  }

  alterAlias(db: string, collection: string, alias: string): Promise<void> {
    return this.ddl.run(async () => {
      const target = this.runtime(db, collection);
      const current = this.aliasOwner(db, alias);
      if (current === target) return;
      current.info.aliases = current.info.aliases.filter((a) => a !== alias);
      target.info.aliases.push(alias);
      await this.deps.catalog.write([this.deps.catalog.putCollectionOp(current.info), this.deps.catalog.putCollectionOp(target.info)]);
    });
  }

  private aliasOwner(db: string, alias: string): CollectionRuntime {
    this.checkDb(db);
    for (const rt of this.runtimes.values()) if (rt.info.aliases.includes(alias)) return rt;
    throw new AliasNotFoundError(db, alias);
  }

  dropAlias(db: string, alias: string): Promise<void> {
    return this.ddl.run(async () => {
      const rt = this.aliasOwner(db, alias);
      rt.info.aliases = rt.info.aliases.filter((a) => a !== alias);
      await this.save(rt);
    });
  }

  async describeAlias(db: string, alias: string): Promise<{ dbName: string; collectionName: string; aliasName: string }> {
    const rt = this.aliasOwner(db, alias);
    return { dbName: DEFAULT_DB, collectionName: rt.info.name, aliasName: alias };
  }

  async listAliases(db: string, collection?: string): Promise<string[]> {
    this.checkDb(db);
    if (collection) return [...this.runtime(db, collection).info.aliases];
    return [...this.runtimes.values()].flatMap((r) => r.info.aliases);
  }

  // ---------------------------------------------------------------- lifecycle

  /** The runtime of a collection (tests and benchmarks inspect segments through it). */
  runtimeOf(name: string): CollectionRuntime {
    return this.runtime(DEFAULT_DB, name);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.compactionRuns.values());
    // Through the DDL queue: a catalog refresh in flight must not open a runtime after this.
    await this.ddl.run(async () => {
      for (const rt of this.runtimes.values()) await rt.close();
      this.runtimes.clear();
    });
    await this.deps.indexQueue.run(async () => undefined); // lets a running index build finish
    try {
      await this.deps.wal.close();
      await this.deps.catalog.kv.close();
    } finally {
      this.options.onClose?.();
    }
  }
}

/** The refusal of a read, write or load of a damaged collection. */
function damagedError(d: DamagedCollection): CollectionDamagedError {
  return new CollectionDamagedError(d.info.name, d.reason, d.cause);
}

/** A stand-in description for a collection whose catalog entry cannot be decoded (listed under a made-up name so it can be seen and dropped). */
function unreadableInfo(collectionId: number): CollectionInfo {
  return {
    collectionId,
    name: `damaged_collection_${collectionId}`,
    dbName: DEFAULT_DB,
    description: '',
    schema: { fields: [], enableDynamicField: false },
    shardsNum: MAX_SHARDS,
    consistencyLevel: 'Bounded',
    partitions: [],
    indexes: [],
    aliases: [],
    properties: {},
    loaded: false,
    createdTs: 0n,
  };
}

/** JSON text of a catalog value (bigints included), for change detection. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Adds or replaces a field's index spec; returns whether anything changed. */
function addIndex(info: CollectionInfo, spec: IndexSpec): boolean {
  const sameName = info.indexes.find((i) => i.indexName === spec.indexName);
  const sameField = info.indexes.find((i) => i.fieldName === spec.fieldName);
  if (sameField) {
    const identical =
      sameField.indexName === spec.indexName &&
      sameField.indexType === spec.indexType &&
      sameField.metricType === spec.metricType &&
      sameField.M === spec.M &&
      sameField.efConstruction === spec.efConstruction &&
      sameField.quantization === spec.quantization;
    if (identical) return false;
    throw invalidParameter(`CreateIndex failed: at most one distinct index is allowed per field (field ${spec.fieldName} already has index ${sameField.indexName}); drop it first`);
  }
  if (sameName) throw invalidParameter(`CreateIndex failed: index name ${spec.indexName} is already used by field ${sameName.fieldName}`);
  info.indexes.push(spec);
  return true;
}

function allVectorFieldsIndexed(info: CollectionInfo): boolean {
  return info.schema.fields.every((f) => f.dataType !== 'FloatVector' || info.indexes.some((i) => i.fieldName === f.name));
}
