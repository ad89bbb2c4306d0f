/**
 * Every storage key Migrans writes, spelled in one place: object-store keys of segment files
 * (Milvus's ChunkManager layout: `insert_log/`, `delta_log/`, `index_files/`) and KvStore keys of the
 * catalog (`meta/`), the primary-key index (`pk/`), datanode and channel-owner leases (`lease/`) and the querynode
 * registry (`registry/`). Ids are zero-padded so keys sort like the numbers; changing a spelling
 * here is a format change (bump CATALOG_FORMAT_VERSION).
 */

/** A collection or segment id as it appears in keys: 12 digits, so keys sort numerically. */
export function paddedId(id: number): string {
  return String(id).padStart(12, '0');
}

// ---------------------------------------------------------------- object store: segment files

/** The three kinds of segment files, each under its own top-level prefix. */
const SEGMENT_FILE_KINDS = ['insert_log', 'delta_log', 'index_files'] as const;

/** What locates a segment's files: its collection, partition and id. */
export interface SegmentLocation {
  collectionId: number;
  partition: string;
  segmentId: number;
}

function segmentBase(kind: (typeof SEGMENT_FILE_KINDS)[number], seg: SegmentLocation): string {
  return `${kind}/${seg.collectionId}/${seg.partition}/${seg.segmentId}`;
}

/** Object-key prefixes of every file of one collection. */
export function collectionObjectPrefixes(collectionId: number): string[] {
  return SEGMENT_FILE_KINDS.map((k) => `${k}/${collectionId}/`);
}

/** Object-key prefixes of every file of one segment (dropped with it). */
export function segmentObjectPrefixes(seg: SegmentLocation): string[] {
  return SEGMENT_FILE_KINDS.map((k) => `${segmentBase(k, seg)}/`);
}

/** Key of one field's column chunk. */
export function chunkKey(seg: SegmentLocation, fieldId: number): string {
  return `${segmentBase('insert_log', seg)}/${fieldId}/1`;
}

/** Prefix of a segment's delta logs. */
export function deltaLogPrefix(seg: SegmentLocation): string {
  return `${segmentBase('delta_log', seg)}/`;
}

/** Key of one delta log; `seq` (zero-padded) orders a segment's logs. */
export function deltaLogKey(seg: SegmentLocation, seq: bigint): string {
  return `${deltaLogPrefix(seg)}${seq.toString().padStart(20, '0')}`;
}

/**
 * Key of a segment's index file for a field; `build` (unique per build) keeps a rebuilt index from
 * colliding with the old file in caches of remote object stores.
 */
export function indexFileKey(seg: SegmentLocation, fieldId: number, build: bigint): string {
  return `${segmentBase('index_files', seg)}/${fieldId}/${build}.hnsw`;
}

// ---------------------------------------------------------------- KvStore: catalog and indexes

/** The catalog's format stamp. */
export const FORMAT_KEY = 'meta/format';
/** The id allocator of builds before versioned id blocks (still read). */
export const LEGACY_ID_KEY = 'meta/next-id';
/** The catalog id allocator's high-water mark (a versioned key). */
export const ID_BLOCK_KEY = 'meta/id-block';
/** The end of the last claimed autoID block (a versioned key). */
export const AUTO_ID_KEY = 'meta/autoid-block';

/** Prefix of collection descriptions. */
export const COLLECTION_PREFIX = 'meta/collection/';
/** Key of one collection's description. */
export const collectionKey = (collectionId: number): string => `${COLLECTION_PREFIX}${paddedId(collectionId)}`;
/** The collection id in a collection-description key. */
export const collectionIdOfKey = (key: string): number => Number(key.slice(COLLECTION_PREFIX.length));

/** Prefix of one collection's segment metadata. */
export const segmentMetaPrefix = (collectionId: number): string => `meta/segment/${paddedId(collectionId)}/`;
/** Key of one segment's metadata. */
export const segmentMetaKey = (collectionId: number, segmentId: number): string => `${segmentMetaPrefix(collectionId)}${paddedId(segmentId)}`;

/** Key of a channel's checkpoint. */
export const checkpointKey = (channel: string): string => `meta/checkpoint/${channel}`;

/** Prefix of recorded drop intents (drops a crash may have interrupted). */
export const DROPPING_PREFIX = 'meta/dropping/';
/** Key of one collection's drop intent. */
export const droppingKey = (collectionId: number): string => `${DROPPING_PREFIX}${paddedId(collectionId)}`;

/** The key that makes the next open of a collection rebuild its PK index (set by `migrans repair`). */
export const pkRebuildKey = (collectionId: number): string => `meta/pk-rebuild/${paddedId(collectionId)}`;

/** Prefix of one collection's primary-key index entries. */
export const pkIndexPrefix = (collectionId: number): string => `pk/${paddedId(collectionId)}/`;

/** Key of a channel's datanode lease (a versioned key). */
export const leaseKey = (channel: string): string => `lease/${channel}`;

/** Key of a channel's owner-querynode lease (a versioned key). */
export const channelOwnerKey = (channel: string): string => `lease/owner/${channel}`;

/** Prefix of the querynode registry's entries. */
export const QUERYNODE_REGISTRY_PREFIX = 'registry/querynode/';
