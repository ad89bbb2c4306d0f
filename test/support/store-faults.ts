/**
 * Fault injection for the fault tests (test/faults/*.test.ts): a ForwardingObjectStore that fault
 * wrappers extend, one whose deletePrefix fails on demand (a drop interrupted by a crash), and a full disk for the real
 * file adapters (every FileHandle write fails with ENOSPC until the disk is "freed").
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ObjectStore } from '../../lib/engine/ports/object-store.ts';

/** An ObjectStore that forwards every call to `inner`; fault wrappers override what they change. */
export class ForwardingObjectStore implements ObjectStore {
  constructor(readonly inner: ObjectStore) {}

  put(key: string, data: Uint8Array): Promise<void> {
    return this.inner.put(key, data);
  }
  get(key: string): Promise<Uint8Array> {
    return this.inner.get(key);
  }
  getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return this.inner.getRange(key, offset, length);
  }
  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  deletePrefix(prefix: string): Promise<number> {
    return this.inner.deletePrefix(prefix);
  }
}

/** Forwards to `inner` (local paths included), except that deletePrefix throws while `failDeletes` is set. */
export class FaultyObjectStore extends ForwardingObjectStore {
  /** While true, deletePrefix removes nothing and throws (what a crash in the middle of a drop leaves). */
  failDeletes = false;
  readonly localPath?: (key: string) => string | undefined;

  constructor(inner: ObjectStore) {
    super(inner);
    if (inner.localPath) this.localPath = (key) => inner.localPath!(key);
  }

  override deletePrefix(prefix: string): Promise<number> {
    if (this.failDeletes) return Promise.reject(new Error(`injected crash while deleting ${prefix}`));
    return this.inner.deletePrefix(prefix);
  }
}

/** A switch that makes every write through a node:fs/promises FileHandle fail with ENOSPC. */
export interface DiskFull {
  /** Writes fail from now on. */
  fill(): void;
  /** Writes succeed again. */
  free(): void;
  /** Puts FileHandle back as it was. */
  restore(): void;
}

/** Patches FileHandle.write/writev/writeFile (the file WAL's and object store's writes) to fail with ENOSPC while filled. */
export async function injectDiskFull(): Promise<DiskFull> {
  const probe = path.join(os.tmpdir(), `migrans-probe-${process.pid}-${Date.now()}`);
  const fh = await fs.open(probe, 'w');
  const proto = Object.getPrototypeOf(fh) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await fh.close();
  await fs.rm(probe, { force: true });
  let full = false;
  const originals = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  for (const name of ['write', 'writev', 'writeFile']) {
    const original = proto[name];
    originals.set(name, original);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      if (!full) return original.apply(this, args);
      const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      return Promise.reject(err);
    };
  }
  return {
    fill: () => (full = true),
    free: () => (full = false),
    restore: () => {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}
