/**
 * KvStore: an ordered key-value store (the KV interface of milvus-io/milvus#11182).
 * Keys are non-empty strings of at most 1024 UTF-8 bytes, compared by those bytes; values are
 * bytes. Keys written with `putIfNewer` (versioned) and plain keys are separate namespaces: `scan`
 * never returns versioned entries, the delete operations remove both. Adapters: memory, LMDB,
 * DynamoDB.
 */

/** One entry of a scan or batch. */
export interface KvEntry {
  key: string;
  value: Uint8Array;
}

/** A key range for scans and range deletes: `start` inclusive, `end` exclusive; either may be omitted. */
export interface KvRange {
  start?: string;
  end?: string;
  /** Only keys with this prefix (combined with start/end when both are given). */
  prefix?: string;
  /** Stop after this many entries. */
  limit?: number;
}

/** One operation of an atomic write batch. */
export type KvWrite = { type: 'put'; key: string; value: Uint8Array } | { type: 'delete'; key: string };

/** Most operations one `write` call may hold (DynamoDB's TransactWriteItems limit). */
export const MAX_ATOMIC_WRITES = 100;

export interface KvStore {
  /** The value, or undefined when absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Values in the order of `keys`, undefined where absent. */
  batchGet(keys: string[]): Promise<(Uint8Array | undefined)[]>;
  put(key: string, value: Uint8Array): Promise<void>;
  /** Puts many entries; not atomic as a whole (use `write` for that), but each entry is. */
  batchPut(entries: KvEntry[]): Promise<void>;
  /** Removes the key; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  batchDelete(keys: string[]): Promise<void>;
  /** Removes every key in [start, end) (not atomically). Returns how many were removed. */
  deleteRange(range: { start: string; end: string }): Promise<number>;
  /** Removes every key starting with the non-empty `prefix` (not atomically). Returns how many were removed. */
  deletePrefix(prefix: string): Promise<number>;
  /** Entries in ascending key order. */
  scan(range: KvRange): AsyncIterable<KvEntry>;
  /**
   * Conditional put keyed on a version number: stores `value` only when the key is absent or holds a
   * version strictly lower than `version`. Returns whether it stored. This is what keeps a replayed,
   * older mutation from overwriting a newer PK-index entry.
   */
  putIfNewer(key: string, value: Uint8Array, version: bigint): Promise<boolean>;
  /** Reads a value written by putIfNewer together with its version; undefined when absent. */
  getVersioned(key: string): Promise<{ value: Uint8Array; version: bigint } | undefined>;
  /** Many getVersioned calls in one round trip, in the order of `keys`. */
  batchGetVersioned(keys: string[]): Promise<({ value: Uint8Array; version: bigint } | undefined)[]>;
  /** Many putIfNewer calls; returns per entry whether it stored. */
  batchPutIfNewer(entries: { key: string; value: Uint8Array; version: bigint }[]): Promise<boolean[]>;
  /** Applies up to MAX_ATOMIC_WRITES puts and deletes (each key at most once) all-or-nothing. */
  write(ops: KvWrite[]): Promise<void>;
  /** Releases files and connections. */
  close(): Promise<void>;
}
