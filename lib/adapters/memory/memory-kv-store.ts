/** KvStore held in process memory, for tests and throwaway engines. */
import { StorageError } from '../../engine/errors.ts';
import type { KvEntry, KvRange, KvStore, KvWrite } from '../../engine/ports/kv-store.ts';
import { checkBytes, checkKvKey, checkVersion, compareUtf8 } from '../key-rules.ts';
import { checkKvPrefix, checkKvRange, checkKvWrites, rangeBounds } from '../kv-rules.ts';
import { lowerBound, SortedKeys } from './sorted-keys.ts';

/** A value written by putIfNewer. */
interface Versioned {
  value: Uint8Array;
  version: bigint;
}

/**
 * A KvStore in two Maps: plain keys (put/get/scan) and versioned keys (putIfNewer/getVersioned) are
 * separate namespaces, as in the LMDB adapter; the delete family removes a key from both.
 * Values are copied in and out so callers cannot alias stored bytes.
 */
export class MemoryKvStore implements KvStore {
  private readonly plain = new Map<string, Uint8Array>();
  private readonly plainOrder = new SortedKeys();
  private readonly versioned = new Map<string, Versioned>();
  private closed = false;
  private readonly isLive = (key: string) => this.plain.has(key);

  async get(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkKvKey(key);
    return this.plain.get(key)?.slice();
  }

  async batchGet(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    this.checkOpen();
    keys.forEach(checkKvKey);
    return keys.map((k) => this.plain.get(k)?.slice());
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.checkOpen();
    checkKvKey(key);
    checkBytes(value, `value for KV key ${JSON.stringify(key)}`);
    this.setPlain(key, value);
  }

  async batchPut(entries: KvEntry[]): Promise<void> {
    this.checkOpen();
    for (const e of entries) {
      checkKvKey(e.key);
      checkBytes(e.value, `value for KV key ${JSON.stringify(e.key)}`);
    }
    for (const e of entries) this.setPlain(e.key, e.value);
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    checkKvKey(key);
    this.remove(key);
  }

  async batchDelete(keys: string[]): Promise<void> {
    this.checkOpen();
    keys.forEach(checkKvKey);
    for (const k of keys) this.remove(k);
  }

  async deleteRange(range: { start: string; end: string }): Promise<number> {
    this.checkOpen();
    checkKvKey(range.start);
    checkKvKey(range.end);
    return this.removeMatching({ start: range.start, end: range.end });
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.checkOpen();
    checkKvPrefix(prefix);
    return this.removeMatching({ prefix });
  }

  async *scan(range: KvRange): AsyncIterable<KvEntry> {
    this.checkOpen();
    checkKvRange(range);
    const { start, end, prefix, limit } = rangeBounds(range);
    if (limit === 0) return;
    // The snapshot array is never mutated, so writes during iteration cannot shift our index.
    const keys = this.plainOrder.snapshot(this.isLive);
    let yielded = 0;
    for (let i = lowerBound(keys, start); i < keys.length; i++) {
      const key = keys[i];
      if (!inBounds(key, end, prefix)) return;
      const value = this.plain.get(key);
      if (value === undefined) continue; // deleted since the snapshot
      yield { key, value: value.slice() };
      if (++yielded === limit) return;
    }
  }

  async putIfNewer(key: string, value: Uint8Array, version: bigint): Promise<boolean> {
    this.checkOpen();
    checkKvKey(key);
    checkBytes(value, `value for KV key ${JSON.stringify(key)}`);
    checkVersion(version, key);
    return this.setIfNewer(key, value, version);
  }

  async getVersioned(key: string): Promise<{ value: Uint8Array; version: bigint } | undefined> {
    this.checkOpen();
    checkKvKey(key);
    const v = this.versioned.get(key);
    return v && { value: v.value.slice(), version: v.version };
  }

  async batchGetVersioned(keys: string[]): Promise<({ value: Uint8Array; version: bigint } | undefined)[]> {
    this.checkOpen();
    keys.forEach(checkKvKey);
    return keys.map((k) => {
      const v = this.versioned.get(k);
      return v && { value: v.value.slice(), version: v.version };
    });
  }

  async batchPutIfNewer(entries: { key: string; value: Uint8Array; version: bigint }[]): Promise<boolean[]> {
    this.checkOpen();
    for (const e of entries) {
      checkKvKey(e.key);
      checkBytes(e.value, `value for KV key ${JSON.stringify(e.key)}`);
      checkVersion(e.version, e.key);
    }
    return entries.map((e) => this.setIfNewer(e.key, e.value, e.version));
  }

  async write(ops: KvWrite[]): Promise<void> {
    this.checkOpen();
    checkKvWrites(ops); // validates everything first: all-or-nothing
    for (const op of ops) {
      if (op.type === 'put') this.setPlain(op.key, op.value);
      else this.remove(op.key);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private setPlain(key: string, value: Uint8Array): void {
    if (!this.plain.has(key)) this.plainOrder.add(key);
    this.plain.set(key, value.slice());
  }

  private setIfNewer(key: string, value: Uint8Array, version: bigint): boolean {
    const cur = this.versioned.get(key);
    if (cur && cur.version >= version) return false;
    this.versioned.set(key, { value: value.slice(), version });
    return true;
  }

  private remove(key: string): void {
    if (this.plain.delete(key)) this.plainOrder.remove();
    this.versioned.delete(key);
  }

  /** Deletes plain and versioned keys within the bounds; returns how many entries went. */
  private removeMatching(range: KvRange): number {
    const { start, end, prefix } = rangeBounds(range);
    const keys = this.plainOrder.snapshot(this.isLive);
    let removed = 0;
    for (let i = lowerBound(keys, start); i < keys.length && inBounds(keys[i], end, prefix); i++) {
      this.plain.delete(keys[i]);
      removed++;
    }
    this.plainOrder.remove(removed);
    // Versioned keys are unordered (nothing scans them); a linear pass is fine for a test adapter.
    for (const key of this.versioned.keys()) {
      if (compareUtf8(key, start) >= 0 && inBounds(key, end, prefix)) {
        this.versioned.delete(key);
        removed++;
      }
    }
    return removed;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('MemoryKvStore is closed; create a new store');
  }
}

/** Whether `key` (already >= the range start) is still inside the range's end and prefix. */
function inBounds(key: string, end: string | undefined, prefix: string): boolean {
  return (end === undefined || compareUtf8(key, end) < 0) && key.startsWith(prefix);
}
