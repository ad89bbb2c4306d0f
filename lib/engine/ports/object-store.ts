/**
 * ObjectStore: byte objects under '/'-separated keys (Milvus's ChunkManager). Keys form a tree: no
 * key is a prefix-directory of another (`a` and `a/b` cannot both exist). Callers must not change
 * a buffer until the `put` of it resolves. Adapters: memory, local files, S3.
 */
export interface ObjectStore {
  /** Writes the whole object atomically: readers see the old bytes or the new, never a mix. */
  put(key: string, data: Uint8Array): Promise<void>;
  /** The whole object; throws NotFoundError when absent. */
  get(key: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` (fewer at the end of the object); throws NotFoundError when absent. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Whether the object exists. */
  exists(key: string): Promise<boolean>;
  /** Every key that starts with `prefix`, sorted ascending (byte order). */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix`; returns how many were removed. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A local file path holding the object's bytes, when the adapter keeps objects on local disk
   * (lets usearch memory-map index files in place); undefined otherwise.
   */
  localPath?(key: string): string | undefined;
}
