/**
 * An ObjectStore that reads through a local store to a shared base store and writes only locally:
 * a querynode's private view of the deployment's S3 objects. It flushes and indexes the segments it
 * builds from the WAL into local files, while the segments and index files the datanodes and
 * indexers wrote stay where they are. Deletes remove local objects only (base objects belong to the
 * processes that own them).
 */
import * as fs from 'node:fs';
import { NotFoundError } from '../../engine/errors.ts';
import type { ObjectStore } from '../../engine/ports/object-store.ts';

/** Local objects over a read-only base. */
export class OverlayObjectStore implements ObjectStore {
  constructor(
    private readonly local: ObjectStore,
    private readonly base: ObjectStore,
  ) {}

  put(key: string, data: Uint8Array): Promise<void> {
    return this.local.put(key, data);
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await this.local.get(key);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      return this.base.get(key);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    try {
      return await this.local.getRange(key, offset, length);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      return this.base.getRange(key, offset, length);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.local.exists(key)) || this.base.exists(key);
  }

  async list(prefix: string): Promise<string[]> {
    const [a, b] = await Promise.all([this.local.list(prefix), this.base.list(prefix)]);
    return [...new Set([...a, ...b])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  }

  delete(key: string): Promise<void> {
    return this.local.delete(key);
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.local.deletePrefix(prefix);
  }

  /** The local file of a key held locally; base objects have none (the caller downloads them). */
  localPath(key: string): string | undefined {
    const file = this.local.localPath?.(key);
    return file && fs.existsSync(file) ? file : undefined;
  }
}
