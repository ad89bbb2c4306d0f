/**
 * One collection's state in one process, shared by the role components that act on it (channel
 * writer, pump, record applier, flusher, checkpointer, visibility, residency, index scheduler,
 * compaction): its channels, its segments, its PK index and the lock that orders applies against
 * PK-index reads. The components hold no state of each other; what several of them need lives here.
 */
import { primaryField } from '../schema/primary-field.ts';
import type { Catalog, SegmentMeta } from '../catalog/catalog.ts';
import { ChannelState, channelName } from '../channel-state.ts';
import type { EngineConfig } from '../engine-config.ts';
import { CollectionNotFoundError } from '../errors.ts';
import type { GrowingMemory } from '../growing-memory.ts';
import { PkIndex } from '../pk-index.ts';
import type { Clock } from '../ports/clock.ts';
import type { LocalFiles } from '../ports/local-files.ts';
import type { Logger } from '../ports/logger.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { VectorIndexFactory } from '../ports/vector-index.ts';
import type { Wal } from '../ports/wal.ts';
import { RwLock } from '../rw-lock.ts';
import type { CollectionInfo, FieldSchema, IndexSpec } from '../schema/types.ts';
import type { Segment } from '../segment/segment.ts';
import type { SegmentScope } from '../segment-scope.ts';
import type { TaskQueue } from '../task-queue.ts';
import type { Tso } from '../tso.ts';

/** What a collection's components need from their deployment. */
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
  /** The process-wide account of growing data, where this process keeps it under a budget. */
  memory?: GrowingMemory;
  /** Where faults are logged; the collection binds its name. */
  logger: Logger;
}

/** A channel's WAL range whose rows are already in a flushed (or compacted-away) segment. */
export interface DurableRange {
  partition: string;
  start: bigint;
  end: bigint;
}

/** The shared state of one open collection. */
export class CollectionState {
  readonly segments = new Map<number, Segment>();
  readonly channels: ChannelState[];
  readonly pk: PkIndex;
  /** Apply holds it exclusively; reads through the PK index hold it shared. */
  readonly lock = new RwLock();
  /** Unflushed segments' metadata by `<channel>/<start position>`: a replay reopens them under their ids. */
  readonly unflushedByStart = new Map<string, SegmentMeta>();
  /** Compacted-away segments whose metadata is kept until no replay can reach their WAL range. */
  readonly droppedMetas = new Set<SegmentMeta>();
  /** Per channel index, WAL ranges a replay skips (their rows are durable in segments). */
  readonly durableRanges = new Map<number, DurableRange[]>();
  /** Sealed segments being flushed, by id. */
  readonly flushTasks = new Map<number, Promise<void>>();
  /** Segments taking part in a running compaction. */
  readonly compacting = new Set<number>();
  /** Set by close: background work stops. */
  closed = false;

  constructor(
    public info: CollectionInfo,
    readonly deps: RuntimeDeps,
  ) {
    this.channels = Array.from({ length: info.shardsNum }, (_, i) => new ChannelState(channelName(info.collectionId, i), i, deps.clock.now()));
    this.pk = new PkIndex(deps.catalog.kv, info.collectionId);
  }

  /** The deployment's logger with this collection's name bound (read per line: a rename changes it). */
  get log(): Logger {
    return this.deps.logger.child({ collection: this.info.name });
  }

  /** The engine's thresholds and timings. */
  get config(): EngineConfig {
    return this.deps.config;
  }

  /** The primary-key field. */
  pkField(): FieldSchema {
    return primaryField(this.info.schema);
  }

  /** The index spec of a vector field, if it has one. */
  indexOf(field: string): IndexSpec | undefined {
    return this.info.indexes.find((i) => i.fieldName === field);
  }

  /** Segments to read, in creation order: of the given partitions (or every existing one), and in `scope` when given. */
  readableSegments(partitions: string[] = this.info.partitions, scope?: SegmentScope): Segment[] {
    const out = [...this.segments.values()].filter((s) => partitions.includes(s.meta.partition) && (!scope || scope(s.meta)));
    return out.sort((a, b) => a.id - b.id);
  }

  /** Live rows (deleted rows excluded), optionally of some partitions or of the segments in `scope`. */
  rowCount(partitions?: string[], scope?: SegmentScope): number {
    let n = 0;
    for (const seg of this.readableSegments(partitions, scope)) n += seg.liveCount;
    return n;
  }

  /** Records that a flushed segment's WAL range needs no replay. */
  addDurableRange(meta: SegmentMeta): void {
    let list = this.durableRanges.get(meta.channel);
    if (!list) this.durableRanges.set(meta.channel, (list = []));
    list.push({ partition: meta.partition, start: meta.startPosition, end: meta.endPosition! });
  }

  /** A local file holding the object at `key`: the object store's own file, or a copy in the local area. */
  async localFile(key: string): Promise<string> {
    const local = this.deps.objects.localPath?.(key);
    if (local) return local;
    if (!this.deps.localFiles.exists(key)) this.deps.localFiles.writeFile(key, await this.deps.objects.get(key));
    return this.deps.localFiles.path(key);
  }

  /** Throws once the collection is closed or dropped. */
  assertOpen(): void {
    if (this.closed) throw new CollectionNotFoundError(this.info.name, undefined, `collection ${this.info.name} is closed or dropped`);
  }
}
