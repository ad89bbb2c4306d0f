/**
 * The engine's `Database`: the proxy (validate, assign ids and timestamps, route to channels, fan
 * out reads) and the coordinator (catalog DDL) over one set of ports. Deployments construct it with
 * their adapters; the embedded server and the API Lambda share it.
 *
 * A collection that fails to open (a damaged catalog entry, segment or chunk) is kept listed as
 * damaged with the reason: describe and get_load_state show it, reads and writes to it are refused
 * naming the damage, it can be dropped, and every other collection is served.
 */
import { validateName } from './schema/validate-spec.ts';
import { Catalog } from './catalog/catalog.ts';
import { AutoIdAllocator } from './catalog/id-blocks.ts';
import { CollectionRuntime } from './collection/collection-runtime.ts';
import type { RuntimeDeps } from './collection/collection-state.ts';
import { embeddedRole } from './roles/embedded.ts';
import { Aliases } from './ddl/aliases.ts';
import { createCollection } from './ddl/create-collection.ts';
import { loadCollection, loadState, releaseCollection } from './ddl/load-state.ts';
import { createIndexes, describeIndexes, dropIndex } from './ddl/indexes.ts';
import { CompactionJobs } from './compaction/compaction-jobs.ts';
import { insertRows } from './write/insert-rows.ts';
import { FollowPacer } from './apply/follow-pacer.ts';
import { collectionUsage, type CollectionUsage } from './read/usage.ts';
import { deleteRows } from './write/delete-rows.ts';
import { dropCollection, finishPendingDrops } from './ddl/drop-collection.ts';
import { refreshFromCatalog } from './collection/catalog-refresh.ts';
import { PartitionDdl, partitionOf } from './ddl/partitions.ts';
import { DEFAULT_DB, OpenCollections, damagedError } from './collection/open-collections.ts';
import type { CollectionRole } from './roles/collection-role.ts';
import { TaskQueue } from './task-queue.ts';
import type {
  CollectionSpec,
  CompactionState,
  Database,
  DeleteOptions,
  IndexStatus,
  LoadState,
  QueryRequest,
  ReadOptions,
  Row,
  ScopeOption,
  SearchRequest,
  WriteResult,
} from './database.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from './engine-config.ts';
import { invalidParameter } from './errors.ts';
import { guaranteeTs } from './read/visibility.ts';
import { GrowingMemory, type GrowingUsage } from './growing-memory.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { KvStore } from './ports/kv-store.ts';
import type { LocalFiles } from './ports/local-files.ts';
import { NOOP_LOGGER, type Logger } from './ports/logger.ts';
import type { ObjectStore } from './ports/object-store.ts';
import type { VectorIndexFactory } from './ports/vector-index.ts';
import type { Wal } from './ports/wal.ts';
import { countRows, getRows, materialize, planOutput, queryRows, searchVector } from './read-path.ts';
import { planGet, planQuery, planSearch, readPartitions } from './read/planner.ts';
import type { CollectionInfo, IndexSpec, PrimaryKey } from './schema/types.ts';
import { physicalMs, Tso } from './tso.ts';

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
  /** The role this process plays on each collection (default: every role, the embedded deployment). */
  role?: CollectionRole;
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

const MAINTENANCE_INTERVAL_MS = 1000;
/** The longest pause between WAL follow passes while no tail moves (see apply/follow-pacer.ts). */
const FOLLOW_IDLE_MAX_MS = 2000;

/** Database implementation over the engine's ports. */
export class EngineDatabase implements Database {
  private readonly collections: OpenCollections;
  private readonly aliases: Aliases;
  private readonly partitionDdl: PartitionDdl;
  private readonly compactionJobs: CompactionJobs;
  private readonly deps: RuntimeDeps;
  private lastCompactionAt: number;
  private timer: NodeJS.Timeout | undefined;
  /** Serializes DDL so concurrent creates and drops see each other. */
  private readonly ddl = new TaskQueue();
  /** Set in a process that follows a WAL others write (followMs): when its follow ticks run a pass. */
  private readonly pacer: FollowPacer | undefined;
  private lastRefreshAt = 0;
  /** Set by close: catalog refreshes queued behind it open nothing. */
  private closed = false;

  private readonly options: EngineDatabaseOptions;
  /** AutoIDs come from blocks claimed in the shared KV: no two processes ever assign the same key. */
  private readonly autoIds: AutoIdAllocator;

  private constructor(options: EngineDatabaseOptions) {
    this.options = options;
    this.pacer = options.followMs === undefined ? undefined : new FollowPacer(options.followMs, FOLLOW_IDLE_MAX_MS);
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
      logger: options.logger ?? NOOP_LOGGER,
      // Where this process keeps its own segments (not a follower, not a role of a fleet whose
      // scheduled sweep seals): growing data stays under one budget.
      memory: this.pacer || options.maintain === false ? undefined : new GrowingMemory(config.growingBudgetBytes),
    };
    this.collections = new OpenCollections(this.deps, options.role ?? embeddedRole, () => this.log);
    this.aliases = new Aliases(this.collections, this.deps.catalog);
    this.partitionDdl = new PartitionDdl(this.deps.catalog);
    this.compactionJobs = new CompactionJobs(() => this.log);
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
    if (!options.catalogSource) await finishPendingDrops(db.deps, db.log);
    if (db.pacer) {
      await db.refreshCatalog();
      db.timer = setInterval(() => db.follow(), options.followMs);
    } else {
      const { infos, damaged } = await db.deps.catalog.scanCollections();
      for (const d of damaged) db.collections.markUnreadable(d.collectionId, d.key, d.error);
      for (const info of infos) {
        const rt = await db.collections.openOrMarkDamaged(info);
        rt?.purgeDroppedPartitions().catch((error) =>
          db.log.error(`finishing a partition drop of ${info.name} failed (retried on the next create or restart)`, { collection: info.name, error }),
        );
      }
      if (options.maintain !== false) db.timer = setInterval(() => db.maintain(), MAINTENANCE_INTERVAL_MS);
    }
    db.timer?.unref();
    return db;
  }

  /**
   * Brings the open collections in line with the catalog, which other processes change: opens new
   * ones, adopts changed descriptions and closes dropped ones (catalog-refresh.ts).
   */
  refreshCatalog(): Promise<void> {
    return this.ddl.run(async () => {
      if (this.closed) return;
      this.lastRefreshAt = this.deps.clock.now();
      await refreshFromCatalog(
        this.collections,
        this.options.catalogSource ?? this.deps.catalog,
        this.options.catalogSource ? this.deps.catalog : undefined,
        this.options.beforeOpen,
      );
    });
  }

  /** Closes a collection's runtime and opens it again from the catalog (its roles' channels changed). */
  reopenCollection(collectionId: number): Promise<CollectionRuntime | undefined> {
    return this.ddl.run(async () => {
      if (this.closed) return undefined;
      const rt = this.collections.runtimes.get(collectionId);
      if (rt) {
        this.collections.runtimes.delete(collectionId);
        await rt.close();
      }
      const info = await this.deps.catalog.getCollection(collectionId);
      return info ? this.collections.open(info) : undefined;
    });
  }

  /** The open runtime of a collection id, if any. */
  runtimeById(collectionId: number): CollectionRuntime | undefined {
    return this.collections.runtimes.get(collectionId);
  }

  /** The channels whose last apply attempt failed, with the error (retried in the background meanwhile). */
  applyErrors(): { channel: string; error: Error }[] {
    const out: { channel: string; error: Error }[] = [];
    for (const rt of this.collections.runtimes.values()) for (const ch of rt.channels) if (ch.error) out.push({ channel: ch.name, error: ch.error });
    return out;
  }

  /** The channels this process applies, of every open collection. */
  appliedChannels(): string[] {
    return [...this.collections.runtimes.values()].flatMap((rt) => rt.state.channels.filter((ch) => rt.role.share.applies(ch.name)).map((ch) => ch.name));
  }

  /** What this process holds of each open collection (the metrics gauges). */
  usage(): CollectionUsage[] {
    const now = this.deps.clock.now();
    return [...this.collections.runtimes.values()].map((rt) => collectionUsage(rt, now));
  }

  /** Refreshes the catalog when it was last read more than `maxAgeMs` ago. */
  async refreshCatalogIfOlder(maxAgeMs: number): Promise<void> {
    if (this.deps.clock.now() - this.lastRefreshAt > maxAgeMs) await this.refreshCatalog();
  }

  private following = false;

  /** One follow tick: learns the WAL tails (and the catalog now and then), at the pacer's pace. */
  private follow(): void {
    if (this.following || !this.pacer?.tick()) return;
    this.following = true;
    const work = async () => {
      await this.refreshCatalogIfOlder(MAINTENANCE_INTERVAL_MS);
      const moved = await Promise.all([...this.collections.runtimes.values()].map((rt) => rt.followTails()));
      this.pacer?.passed(moved.includes(true));
    };
    work()
      .catch((error) => this.log.warn('following the WAL and the catalog failed (retrying)', { error }))
      .finally(() => (this.following = false));
  }

  private maintain(): void {
    const now = this.deps.clock.now();
    for (const rt of this.collections.runtimes.values()) rt.sealIdle(now);
    const every = this.deps.config.compactionIntervalMs;
    if (every > 0 && now - this.lastCompactionAt >= every) {
      this.lastCompactionAt = now;
      for (const rt of this.collections.runtimes.values()) this.compactionJobs.run(rt).catch(() => undefined);
    }
  }

  private async save(rt: CollectionRuntime): Promise<void> {
    await this.deps.catalog.putCollection(rt.info);
  }

  // ---------------------------------------------------------------- databases

  async listDatabases(): Promise<string[]> {
    return [DEFAULT_DB];
  }

  async describeDatabase(db: string): Promise<{ dbName: string; dbId: number; properties: Record<string, string> }> {
    this.collections.checkDb(db);
    return { dbName: DEFAULT_DB, dbId: 1, properties: {} };
  }

  // ---------------------------------------------------------------- collections

  createCollection(db: string, spec: CollectionSpec): Promise<void> {
    return this.ddl.run(() => createCollection(this.collections, this.deps, db, spec));
  }

  dropCollection(db: string, name: string): Promise<void> {
    return this.ddl.run(() => dropCollection(this.collections, this.deps, db, name));
  }

  async listCollections(db: string): Promise<string[]> {
    this.collections.checkDb(db);
    return [...this.collections.runtimes.values(), ...this.collections.damaged.values()].map((r) => r.info.name).sort();
  }

  async hasCollection(db: string, name: string): Promise<boolean> {
    return this.collections.nameTaken(db, name);
  }

  async describeCollection(db: string, name: string): Promise<CollectionInfo & { loadState: LoadState; loadFailure?: string }> {
    const damaged = this.collections.find(db, name) ? undefined : this.collections.findDamaged(name);
    if (damaged) return { ...damaged.info, loadState: 'LoadStateNotLoad', loadFailure: damagedError(damaged).message };
    const rt = this.collections.runtime(db, name);
    return { ...rt.info, loadState: rt.info.loaded ? 'LoadStateLoaded' : 'LoadStateNotLoad' };
  }

  renameCollection(db: string, name: string, newName: string, newDb?: string): Promise<void> {
    return this.ddl.run(async () => {
      validateName('collection', newName);
      if (newDb) this.collections.checkDb(newDb);
      const rt = this.collections.runtime(db, name);
      if (rt.info.name !== name) throw invalidParameter(`${name} is an alias; rename the collection ${rt.info.name} instead`);
      if (this.collections.nameTaken(db, newName)) throw invalidParameter(`duplicated new collection name ${newName}; it is already a collection or alias`);
      rt.info.name = newName;
      await this.save(rt);
    });
  }

  async getCollectionStats(db: string, name: string, options: ScopeOption = {}): Promise<{ rowCount: number }> {
    const rt = this.collections.runtime(db, name);
    await this.caughtUp(rt);
    return { rowCount: rt.state.rowCount(undefined, options.scope) };
  }

  async loadCollection(db: string, name: string): Promise<void> {
    await loadCollection(this.collections.runtime(db, name));
  }

  async releaseCollection(db: string, name: string): Promise<void> {
    await releaseCollection(this.collections.runtime(db, name));
  }

  async getLoadState(db: string, name: string): Promise<{ loadState: LoadState; loadProgress: number; message?: string }> {
    return loadState(this.collections, db, name);
  }

  async refreshLoad(db: string, name: string): Promise<void> {
    this.collections.loaded(db, name);
  }

  async flush(db: string, name: string): Promise<void> {
    await this.collections.runtime(db, name).flush();
  }

  async compact(db: string, name: string): Promise<number> {
    const rt = this.collections.runtime(db, name);
    return this.compactionJobs.start(rt, await this.deps.catalog.allocateId());
  }

  async getCompactionState(compactionId: number): Promise<CompactionState> {
    return this.compactionJobs.state(compactionId);
  }

  async alterProperties(db: string, name: string, properties: Record<string, string>): Promise<void> {
    const rt = this.collections.runtime(db, name);
    Object.assign(rt.info.properties, properties);
    await this.save(rt);
  }

  async dropProperties(db: string, name: string, keys: string[]): Promise<void> {
    const rt = this.collections.runtime(db, name);
    for (const k of keys) delete rt.info.properties[k];
    await this.save(rt);
  }

  // ---------------------------------------------------------------- writes

  async insert(db: string, name: string, rows: unknown[], options: { partitionName?: string; upsert: boolean }): Promise<WriteResult> {
    const rt = this.collections.runtime(db, name);
    return insertRows(rt, partitionOf(rt, options.partitionName), rows, options.upsert, this.autoIds, this.deps.memory);
  }

  async delete(db: string, name: string, filter: string, options: DeleteOptions): Promise<{ deleteCount: number; sessionToken: bigint }> {
    const rt = this.collections.runtime(db, name);
    const partition = options.partitionName ? partitionOf(rt, options.partitionName) : '';
    const res = await deleteRows(rt, partition, filter, options, () => this.caughtUp(rt));
    return { deleteCount: res.deleteCount, sessionToken: res.sessionToken ?? this.deps.tso.now() };
  }

  // ---------------------------------------------------------------- reads

  /**
   * In a process following others' WAL, learns the collection's tails before a wait (a moved tail
   * resets the follow pace); with `readSince`, only those not read after that clock instant.
   */
  private async learnTails(rt: CollectionRuntime, readSince?: number): Promise<void> {
    if (this.pacer && (await rt.followTails(readSince))) this.pacer.moved();
  }

  /** Waits until everything acknowledged so far is applied. */
  private async caughtUp(rt: CollectionRuntime): Promise<void> {
    await this.learnTails(rt);
    await rt.waitForTs(this.deps.tso.now());
  }

  private async readable(db: string, name: string, options: ReadOptions): Promise<CollectionRuntime> {
    const rt = this.collections.loaded(db, name);
    if (options.partitionNames) for (const p of options.partitionNames) partitionOf(rt, p);
    const level = options.consistencyLevel ?? rt.info.consistencyLevel;
    const ts = guaranteeTs(level, options.sessionToken, this.deps);
    // Strong and Bounded guarantees come from this process's clock: a tail read begun after the
    // guarantee's instant already knows every write they must see (the follow pacer reads the tails
    // at least every 2 s, well inside Bounded's 5 s), so a Bounded read seldom reads a tail itself.
    // A session token is another process's timestamp, on another clock: always read the tails.
    const localClock = level === 'Strong' || level === 'Bounded';
    if (ts > 0n) await this.learnTails(rt, localClock ? physicalMs(ts) : undefined);
    if (ts > 0n) await rt.waitForTs(ts);
    return rt;
  }

  /**
   * Brings each collection's memory in line with the role's residency policy: segments
   * that turned resident are taken in, the others go back to disk once no read needed them for
   * `idleMs`. A querynode calls it when its view of the fleet changes, and now and then.
   */
  async applyResidency(idleMs: number): Promise<void> {
    for (const rt of [...this.collections.runtimes.values()]) await rt.applyResidency(idleMs);
  }

  async get(db: string, name: string, ids: PrimaryKey[], options: ReadOptions): Promise<Row[]> {
    const rt = await this.readable(db, name, options);
    const plan = planOutput(rt.state, planGet(options.outputFields));
    const rows = await getRows(rt.state, ids, readPartitions(options), options.scope);
    if (plan.fields.some((f) => f.dataType === 'FloatVector')) await rt.fetchVectors(rows.map((r) => r.segment));
    return rows.map((r) => materialize(rt.state, r.segment, r.offset, plan));
  }

  async query(db: string, name: string, request: QueryRequest): Promise<Row[]> {
    const rt = await this.readable(db, name, request);
    const q = planQuery(rt.info, request);
    if (q.count) return [{ 'count(*)': await countRows(rt.state, q.filter, q.partitions, q.scope) }];
    const output = planOutput(rt.state, q.outputFields);
    // Primary-key order (Milvus's): the same in every process, so the shares of a fanned-out
    // query also merge by key into the answer one node holding every segment gives.
    const rows = await queryRows(rt.state, q.filter, { limit: q.limit, offset: q.offset, partitions: q.partitions, scope: q.scope });
    if (output.fields.some((f) => f.dataType === 'FloatVector')) await rt.fetchVectors(rows.map((r) => r.segment));
    return rows.map((r) => materialize(rt.state, r.segment, r.offset, output));
  }

  async search(db: string, name: string, request: SearchRequest): Promise<Row[][]> {
    const rt = await this.readable(db, name, request);
    const { plan, outputFields } = planSearch(rt.info, request, this.deps.config.defaultSearchEf);
    // Searches need the segments' vectors and indexes in memory; gets and queries read the few
    // vectors they return from a released segment's local file (fetched first if never fetched).
    await rt.makeResident(request.scope);
    const output = planOutput(rt.state, outputFields);
    return request.vectors.map((v) => searchVector(rt.state, v, plan, this.deps.config).map((h) => materialize(rt.state, h.segment, h.offset, output, { distance: h.score })));
  }

  // ---------------------------------------------------------------- indexes

  async createIndex(db: string, name: string, specs: IndexSpec[]): Promise<void> {
    await createIndexes(this.collections.runtime(db, name), specs);
  }

  async describeIndex(db: string, name: string, indexName: string, options: ScopeOption = {}): Promise<IndexStatus[]> {
    return describeIndexes(this.collections.runtime(db, name), indexName, options.scope);
  }

  async listIndexes(db: string, name: string): Promise<string[]> {
    return this.collections.runtime(db, name).info.indexes.map((i) => i.indexName);
  }

  async dropIndex(db: string, name: string, indexName: string): Promise<void> {
    await dropIndex(this.collections.runtime(db, name), indexName);
  }

  // ---------------------------------------------------------------- partitions

  createPartition(db: string, name: string, partition: string): Promise<void> {
    return this.ddl.run(() => this.partitionDdl.create(this.collections.runtime(db, name), partition));
  }

  dropPartition(db: string, name: string, partition: string): Promise<void> {
    return this.ddl.run(() => this.partitionDdl.drop(this.collections.runtime(db, name), partition, (rt) => this.caughtUp(rt)));
  }

  async listPartitions(db: string, name: string): Promise<string[]> {
    return [...this.collections.runtime(db, name).info.partitions];
  }

  async hasPartition(db: string, name: string, partition: string): Promise<boolean> {
    return this.collections.runtime(db, name).info.partitions.includes(partition);
  }

  async loadPartitions(db: string, name: string, partitions: string[]): Promise<void> {
    const rt = this.collections.runtime(db, name);
    for (const p of partitions) partitionOf(rt, p);
    await this.loadCollection(db, name);
  }

  async releasePartitions(db: string, name: string, partitions: string[]): Promise<void> {
    const rt = this.collections.runtime(db, name);
    for (const p of partitions) partitionOf(rt, p);
  }

  async getPartitionStats(db: string, name: string, partition: string, options: ScopeOption = {}): Promise<{ rowCount: number }> {
    const rt = this.collections.runtime(db, name);
    const p = partitionOf(rt, partition);
    await this.caughtUp(rt);
    return { rowCount: rt.state.rowCount([p], options.scope) };
  }

  // ---------------------------------------------------------------- aliases

  /** Alias changes go through the DDL queue: a concurrent create of a collection with that name sees them. */
  createAlias(db: string, collection: string, alias: string): Promise<void> {
    return this.ddl.run(() => this.aliases.create(db, collection, alias));
  }

  alterAlias(db: string, collection: string, alias: string): Promise<void> {
    return this.ddl.run(() => this.aliases.alter(db, collection, alias));
  }

  dropAlias(db: string, alias: string): Promise<void> {
    return this.ddl.run(() => this.aliases.drop(db, alias));
  }

  async describeAlias(db: string, alias: string): Promise<{ dbName: string; collectionName: string; aliasName: string }> {
    return this.aliases.describe(db, alias);
  }

  async listAliases(db: string, collection?: string): Promise<string[]> {
    return this.aliases.list(db, collection);
  }

  // ---------------------------------------------------------------- lifecycle

  /** The runtime of a collection (tests and benchmarks inspect segments through it). */
  runtimeOf(name: string): CollectionRuntime {
    return this.collections.runtime(DEFAULT_DB, name);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.compactionJobs.drain();
    // Through the DDL queue: a catalog refresh in flight must not open a runtime after this.
    await this.ddl.run(async () => {
      for (const rt of this.collections.runtimes.values()) await rt.close();
      this.collections.runtimes.clear();
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
