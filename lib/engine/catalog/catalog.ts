/**
 * The catalog: collection and segment metadata, channel checkpoints and the id allocator, kept in
 * the KvStore (etcd's role in Milvus). Every multi-key change that must be atomic goes through one
 * `write` batch. A collection drop is recorded as an intent (`meta/dropping/<id>`, written in the
 * same batch that removes the collection entry) before any of its files are deleted, so a drop
 * interrupted by a crash is finished on the next open instead of leaving its files for good.
 * Every value carries a checksum: JSON entries through json-codec.ts, the id mark as the CRC of its
 * version; a mismatch is a CorruptDataError naming the key.
 */
import { CorruptDataError } from '../errors.ts';
import type { KvStore, KvWrite } from '../ports/kv-store.ts';
import type { CollectionInfo } from '../schema/types.ts';
import { decodeJson, encodeJson } from './json-codec.ts';
import {
  checkpointKey,
  COLLECTION_PREFIX,
  collectionIdOfKey,
  collectionKey,
  DROPPING_PREFIX,
  droppingKey,
  FORMAT_KEY,
  ID_BLOCK_KEY,
  LEGACY_ID_KEY,
  segmentMetaKey,
  segmentMetaPrefix,
} from './key-layout.ts';
import { checkVersionMark, versionMarkValue } from './version-mark.ts';

/** Segment lifecycle states (Milvus SegmentState names). */
export type SegmentState = 'Growing' | 'Sealed' | 'Flushed' | 'Dropped';

/** Persistent description of one segment (Milvus's segment meta in etcd). */
export interface SegmentMeta {
  segmentId: number;
  collectionId: number;
  partition: string;
  channel: number;
  state: SegmentState;
  /** WAL position of the record that opened the segment. */
  startPosition: bigint;
  /** Effective timestamp of the channel's record before `startPosition` (replay restarts from it). */
  prevTs: bigint;
  /** Position after the last record whose rows it holds (set when sealed). */
  endPosition?: bigint;
  rowCount: number;
  /**
   * Seal thresholds in force when the segment opened: replay after a restart seals it at the same
   * row even if the configuration changed meanwhile (PK-index entries point at those offsets).
   */
  sealRows: number;
  sealBytes: number;
  /** Vector field name → index object key, once built. */
  indexFiles: Record<string, string>;
  /** Set on compaction outputs: the segments they replaced. */
  compactedFrom?: number[];
}

/** A collection entry of the catalog whose bytes cannot be decoded. */
export interface DamagedCatalogEntry {
  key: string;
  collectionId: number;
  error: Error;
}

/** Per-channel replay state. */
export interface ChannelCheckpoint {
  /** Replay starts here after a restart: every effect of earlier records is durable elsewhere. */
  position: bigint;
  /** Effective timestamp of the last record before `position` (0 when none). */
  lastTs: bigint;
}

/**
 * Version of the catalog and on-disk layout this build writes; bumped on incompatible changes.
 * 2: checksums on every persistent format (catalog values, chunks, delta logs, PK-index entries,
 * index files). A format-1 store opens and is stamped 2, since it then holds values format-1
 * builds cannot read.
 */
export const CATALOG_FORMAT_VERSION = 2;
/** Formats this build reads (older ones are restamped with CATALOG_FORMAT_VERSION on open). */
const READABLE_FORMATS: readonly number[] = [1, CATALOG_FORMAT_VERSION];
const ID_BLOCK = 1000;

/** Typed access to catalog entries. */
export class Catalog {
  private nextId = 0;
  private idLimit = 0;
  private idChain: Promise<unknown> = Promise.resolve();

  constructor(readonly kv: KvStore) {}

  /** Stamps a new or older-format store with this build's format version, or refuses a store written by a newer one. */
  async checkFormat(): Promise<void> {
    const stored = await this.kv.get(FORMAT_KEY);
    if (!stored) {
      await this.kv.put(FORMAT_KEY, encodeJson(CATALOG_FORMAT_VERSION));
      return;
    }
    const version = decodeJson<number>(stored, FORMAT_KEY);
    if (version === CATALOG_FORMAT_VERSION) return;
    if (!READABLE_FORMATS.includes(version)) {
      throw new CorruptDataError(
        `the data directory was written in catalog format ${version}; this build reads formats ${READABLE_FORMATS.join(' and ')}. Run the Migrans version that wrote it, or export and re-import the data`,
      );
    }
    await this.kv.put(FORMAT_KEY, encodeJson(CATALOG_FORMAT_VERSION));
  }

  /** Allocates a unique id (collections, segments, compaction jobs), persisting in blocks. */
  allocateId(): Promise<number> {
    // Serialized: two callers must never both refill the block from the same stored value.
    const next = this.idChain.then(() => this.nextIdUnserialized());
    this.idChain = next.catch(() => undefined);
    return next;
  }

  private async nextIdUnserialized(): Promise<number> {
    while (this.nextId >= this.idLimit) {
      const [mark] = await this.kv.batchGetVersioned([ID_BLOCK_KEY]);
      if (mark) checkVersionMark(ID_BLOCK_KEY, mark);
      // Catalogs written before the versioned mark kept the next free id under a plain key.
      const legacy = mark ? undefined : await this.kv.get(LEGACY_ID_KEY);
      const start = mark ? Number(mark.version) : legacy ? decodeJson<number>(legacy, LEGACY_ID_KEY) : 1;
      const [claimed] = await this.kv.batchPutIfNewer([{ key: ID_BLOCK_KEY, value: versionMarkValue(BigInt(start + ID_BLOCK)), version: BigInt(start + ID_BLOCK) }]);
      if (!claimed) continue; // another process claimed this block first
      this.idLimit = start + ID_BLOCK;
      this.nextId = start;
    }
    return this.nextId++;
  }

  /** Makes ids allocated from this catalog start at `first` or above (private catalogs of querynodes). */
  async reserveIdsFrom(first: number): Promise<void> {
    await this.kv.batchPutIfNewer([{ key: ID_BLOCK_KEY, value: versionMarkValue(BigInt(first)), version: BigInt(first) }]);
  }

  /** Every collection, any database; throws CorruptDataError naming the first entry that cannot be read. */
  async listCollections(): Promise<CollectionInfo[]> {
    const { infos, damaged } = await this.scanCollections();
    if (damaged.length > 0) throw new CorruptDataError(`catalog entry ${damaged[0].key} cannot be read: ${damaged[0].error.message}`);
    return infos;
  }

  /** Every collection, with the entries that cannot be decoded apart (one damaged entry must not hide the others). */
  async scanCollections(): Promise<{ infos: CollectionInfo[]; damaged: DamagedCatalogEntry[] }> {
    const infos: CollectionInfo[] = [];
    const damaged: DamagedCatalogEntry[] = [];
    for await (const e of this.kv.scan({ prefix: COLLECTION_PREFIX })) {
      try {
        infos.push(decodeJson<CollectionInfo>(e.value, e.key));
      } catch (err) {
        damaged.push({ key: e.key, collectionId: collectionIdOfKey(e.key), error: err as Error });
      }
    }
    return { infos, damaged };
  }

  /** Write op that stores a collection. */
  putCollectionOp(info: CollectionInfo): KvWrite {
    return { type: 'put', key: collectionKey(info.collectionId), value: encodeJson(info) };
  }

  async putCollection(info: CollectionInfo): Promise<void> {
    await this.kv.write([this.putCollectionOp(info)]);
  }

  /**
   * First step of a drop: in one batch, the collection leaves the list and a drop intent holding
   * its description is recorded (the caller then deletes its data and calls finishDrop).
   */
  async markDropping(info: CollectionInfo): Promise<void> {
    await this.kv.write([
      { type: 'delete', key: collectionKey(info.collectionId) },
      { type: 'put', key: droppingKey(info.collectionId), value: encodeJson(info) },
    ]);
  }

  /** Collections whose drop was recorded but not finished (a crash interrupted it). */
  async listDropping(): Promise<CollectionInfo[]> {
    const out: CollectionInfo[] = [];
    for await (const e of this.kv.scan({ prefix: DROPPING_PREFIX })) out.push(decodeJson<CollectionInfo>(e.value, e.key));
    return out;
  }

  /** Last step of a drop, once its data is deleted: removes its segment metadata, checkpoints and drop intent. */
  async finishDrop(collectionId: number, channels: string[]): Promise<void> {
    await this.kv.deletePrefix(segmentMetaPrefix(collectionId));
    await this.write(channels.map((c) => this.deleteCheckpointOp(c)));
    await this.kv.delete(droppingKey(collectionId));
  }

  async listSegments(collectionId: number): Promise<SegmentMeta[]> {
    const out: SegmentMeta[] = [];
    for await (const e of this.kv.scan({ prefix: segmentMetaPrefix(collectionId) })) out.push(decodeJson<SegmentMeta>(e.value, e.key));
    return out;
  }

  /** Write op that stores a segment's metadata. */
  putSegmentOp(meta: SegmentMeta): KvWrite {
    return { type: 'put', key: segmentMetaKey(meta.collectionId, meta.segmentId), value: encodeJson(meta) };
  }

  /** Write op that removes a segment's metadata. */
  deleteSegmentOp(collectionId: number, segmentId: number): KvWrite {
    return { type: 'delete', key: segmentMetaKey(collectionId, segmentId) };
  }

  /** A collection by id, if it exists. */
  async getCollection(collectionId: number): Promise<CollectionInfo | undefined> {
    const key = collectionKey(collectionId);
    const v = await this.kv.get(key);
    return v ? decodeJson<CollectionInfo>(v, key) : undefined;
  }

  /** A segment's metadata, if it exists. */
  async getSegment(collectionId: number, segmentId: number): Promise<SegmentMeta | undefined> {
    const key = segmentMetaKey(collectionId, segmentId);
    const v = await this.kv.get(key);
    return v ? decodeJson<SegmentMeta>(v, key) : undefined;
  }

  async getCheckpoint(channel: string): Promise<ChannelCheckpoint> {
    const key = checkpointKey(channel);
    const v = await this.kv.get(key);
    return v ? decodeJson<ChannelCheckpoint>(v, key) : { position: 0n, lastTs: 0n };
  }

  /** Write op that stores a channel checkpoint. */
  putCheckpointOp(channel: string, cp: ChannelCheckpoint): KvWrite {
    return { type: 'put', key: checkpointKey(channel), value: encodeJson(cp) };
  }

  /** Write op that removes a channel checkpoint. */
  deleteCheckpointOp(channel: string): KvWrite {
    return { type: 'delete', key: checkpointKey(channel) };
  }

  /** Applies ops atomically, in slices of the store's batch limit when there are more. */
  async write(ops: KvWrite[]): Promise<void> {
    for (let i = 0; i < ops.length; i += 100) await this.kv.write(ops.slice(i, i + 100));
  }
}
