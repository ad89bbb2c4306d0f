/**
 * The engine's public face: the operations the REST layer (embedded server and API Lambda) calls.
 * Names are resolved through aliases; every method throws a typed engine error (lib/engine/errors.ts) for client mistakes.
 */
import type { MetricType } from './ports/vector-index.ts';
import type { SegmentScope } from './segment-scope.ts';
import type { CollectionInfo, CollectionSchema, ConsistencyLevel, IndexSpec, PrimaryKey, Value } from './schema/types.ts';

/** What `createCollection` needs; the REST layer builds it from quick-setup or full-schema requests. */
export interface CollectionSpec {
  name: string;
  description: string;
  schema: CollectionSchema;
  shardsNum: number;
  consistencyLevel: ConsistencyLevel;
  properties: Record<string, string>;
  /** Indexes to create with the collection (quick setup: one AUTOINDEX on the vector field). */
  indexes: IndexSpec[];
  /** Load after creation (Milvus loads when indexes were given). */
  load: boolean;
}

/** Read options shared by get, query and search. */
export interface ReadOptions {
  /** Defaults to the collection's level. */
  consistencyLevel?: ConsistencyLevel;
  /** Session level: the token a write returned; the read waits until it is visible. */
  sessionToken?: bigint;
  partitionNames?: string[];
  /** Field names, `*` for all; empty = primary key only (plus distance for search). */
  outputFields?: string[];
  /**
   * Serve only these segments (a querynode's share of a fanned-out read). A scoped query returns
   * its rows in primary-key order, so that the reader can merge the shares and apply offset/limit.
   */
  scope?: SegmentScope;
}

/** Serve only these segments: a querynode's share of a fanned-out read. */
export interface ScopeOption {
  scope?: SegmentScope;
}

/** Options of a delete by filter. */
export interface DeleteOptions {
  partitionName?: string;
  exprParams?: Record<string, unknown>;
  /** The keys the filter matches, resolved by a distributed read: deleted without resolving the filter here. */
  keys?: PrimaryKey[];
}

/** A result row: field name → value, dynamic fields flattened in, `distance` on search hits. */
export type Row = Record<string, Value>;

/** Query request. */
export interface QueryRequest extends ReadOptions {
  filter: string;
  exprParams?: Record<string, unknown>;
  limit?: number;
  offset?: number;
}

/** Search request for one or more query vectors. */
export interface SearchRequest extends ReadOptions {
  vectors: Float32Array[];
  annsField?: string;
  limit: number;
  offset?: number;
  filter?: string;
  exprParams?: Record<string, unknown>;
  /** HNSW beam width for this search. */
  ef?: number;
  /** Range search: keep hits with distance beyond `radius` (direction per metric)… */
  radius?: number;
  /** …and within `rangeFilter`. */
  rangeFilter?: number;
  metricType?: MetricType;
}

/** Result of a write: ids in row order and the session token (the write's hybrid timestamp). */
export interface WriteResult {
  ids: PrimaryKey[];
  sessionToken: bigint;
}

/** Load states as Milvus names them. */
export type LoadState = 'LoadStateNotExist' | 'LoadStateNotLoad' | 'LoadStateLoading' | 'LoadStateLoaded';

/** Index progress as describe reports it. */
export interface IndexStatus extends IndexSpec {
  totalRows: number;
  indexedRows: number;
  pendingRows: number;
  state: 'Finished' | 'InProgress';
}

/** Compaction job status. */
export interface CompactionState {
  compactionId: number;
  state: 'Executing' | 'Completed' | 'UndefiedState';
  executingPlanNumber: number;
  completedPlanNumber: number;
}

/** The engine API (every `db` argument is a database name; only `default` exists). */
export interface Database {
  listDatabases(): Promise<string[]>;
  describeDatabase(db: string): Promise<{ dbName: string; dbId: number; properties: Record<string, string> }>;

  createCollection(db: string, spec: CollectionSpec): Promise<void>;
  /** Idempotent: dropping a missing collection succeeds. */
  dropCollection(db: string, name: string): Promise<void>;
  listCollections(db: string): Promise<string[]>;
  hasCollection(db: string, name: string): Promise<boolean>;
  /** `loadFailure`: why a listed collection cannot be served (it was found damaged at open). */
  describeCollection(db: string, name: string): Promise<CollectionInfo & { loadState: LoadState; loadFailure?: string }>;
  renameCollection(db: string, name: string, newName: string, newDb?: string): Promise<void>;
  /** Live rows; with `scope`, of those segments only (a querynode's share). */
  getCollectionStats(db: string, name: string, options?: ScopeOption): Promise<{ rowCount: number }>;
  loadCollection(db: string, name: string): Promise<void>;
  releaseCollection(db: string, name: string): Promise<void>;
  /** `message`: why the collection cannot be loaded, when it was found damaged. */
  getLoadState(db: string, name: string): Promise<{ loadState: LoadState; loadProgress: number; message?: string }>;
  refreshLoad(db: string, name: string): Promise<void>;
  flush(db: string, name: string): Promise<void>;
  compact(db: string, name: string): Promise<number>;
  getCompactionState(compactionId: number): Promise<CompactionState>;
  alterProperties(db: string, name: string, properties: Record<string, string>): Promise<void>;
  dropProperties(db: string, name: string, keys: string[]): Promise<void>;

  /** Insert (an existing key is overwritten) or upsert raw JSON rows; validation errors are code 1804. */
  insert(db: string, name: string, rows: unknown[], options: { partitionName?: string; upsert: boolean }): Promise<WriteResult>;
  delete(db: string, name: string, filter: string, options: DeleteOptions): Promise<{ deleteCount: number; sessionToken: bigint }>;
  get(db: string, name: string, ids: PrimaryKey[], options: ReadOptions): Promise<Row[]>;
  query(db: string, name: string, request: QueryRequest): Promise<Row[]>;
  /** One result list per query vector, best first. */
  search(db: string, name: string, request: SearchRequest): Promise<Row[][]>;

  createIndex(db: string, name: string, specs: IndexSpec[]): Promise<void>;
  /** Build progress; with `scope`, over those segments only. */
  describeIndex(db: string, name: string, indexName: string, options?: ScopeOption): Promise<IndexStatus[]>;
  listIndexes(db: string, name: string): Promise<string[]>;
  dropIndex(db: string, name: string, indexName: string): Promise<void>;

  createPartition(db: string, name: string, partition: string): Promise<void>;
  dropPartition(db: string, name: string, partition: string): Promise<void>;
  listPartitions(db: string, name: string): Promise<string[]>;
  hasPartition(db: string, name: string, partition: string): Promise<boolean>;
  loadPartitions(db: string, name: string, partitions: string[]): Promise<void>;
  releasePartitions(db: string, name: string, partitions: string[]): Promise<void>;
  getPartitionStats(db: string, name: string, partition: string, options?: ScopeOption): Promise<{ rowCount: number }>;

  createAlias(db: string, collection: string, alias: string): Promise<void>;
  alterAlias(db: string, collection: string, alias: string): Promise<void>;
  dropAlias(db: string, alias: string): Promise<void>;
  describeAlias(db: string, alias: string): Promise<{ dbName: string; collectionName: string; aliasName: string }>;
  listAliases(db: string, collection?: string): Promise<string[]>;

  /** Stops background work, flushes the WAL and closes stores. */
  close(): Promise<void>;
}
