/**
 * KvStore on LMDB (the `lmdb` package): one environment directory, two named databases. `plain` holds
 * put/get/scan keys; `versioned` holds putIfNewer keys as [u64 big-endian version][value], kept apart
 * so scans never see version prefixes. The delete family removes a key from both.
 *
 * Writes: single puts/deletes go through lmdb's asynchronous batched writer (off the JS thread, one
 * transaction per event turn). Read-compare-write and all-or-nothing operations run in a synchronous
 * write transaction (lmdb's async transaction callbacks are avoided: they hang on some hosts), committed
 * without waiting for the flush, which we await afterwards so the JS thread is not blocked on fsync.
 *
 * Durability (option `durability`): 'flush' (default) resolves a write once LMDB has fsync'd it, so
 * acknowledged writes survive kill -9 and power loss; 'commit' resolves at commit, which survives
 * kill -9 (the OS holds the pages) but may lose the last transactions on power loss.
 * One process at a time should write an environment: conditional writes are serialized per process.
 * Writes that are not awaited before the next one starts may commit in either order (a synchronous
 * transaction can overtake queued asynchronous puts); awaited writes are ordered.
 */
import { open, TransactionFlags, type Database, type RootDatabase } from 'lmdb';
import { CorruptDataError, NotFoundError, StorageError } from '../../engine/errors.ts';
import type { KvEntry, KvRange, KvStore, KvWrite } from '../../engine/ports/kv-store.ts';
import { checkBytes, checkKvKey, checkVersion } from '../key-rules.ts';
import { checkKvPrefix, checkKvRange, checkKvWrites, rangeBounds } from '../kv-rules.ts';
import { errMessage } from './fs-helpers.ts';

/** Options of LmdbKvStore.open. */
export interface LmdbKvStoreOptions {
  /** When a write resolves: 'flush' (on disk, default) or 'commit' (visible; survives process crashes only). */
  durability?: 'flush' | 'commit';
}

/** Entries fetched per LMDB read during a scan, so no read transaction stays open across consumer awaits. */
const SCAN_PAGE = 512;

/** putIfNewer entries per synchronous transaction, so a huge batch does not freeze the event loop. */
const CONDITIONAL_CHUNK = 4096;

/** Keys removed per transaction by deleteRange/deletePrefix (which the port does not require to be atomic). */
const DELETE_CHUNK = 10_000;

/** Synchronous write transaction that commits without blocking on fsync (we await `flushed` instead). */
const TXN_FLAGS = TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH;

/** Bytes of the version prefix of a versioned value. */
const VERSION_BYTES = 8;

type Bytes = Uint8Array;

/** An ordered KvStore in an LMDB environment directory. */
export class LmdbKvStore implements KvStore {
  private closed = false;

  private constructor(
    /** The environment directory. */
    readonly dir: string,
    private readonly root: RootDatabase<Bytes, string>,
    private readonly plain: Database<Bytes, string>,
    private readonly versioned: Database<Bytes, string>,
    private readonly waitForFlush: boolean,
  ) {}

  /** Opens (creating if needed) the environment in directory `dir`. */
  static async open(dir: string, options: LmdbKvStoreOptions = {}): Promise<LmdbKvStore> {
    try {
      // keyEncoding 'ordered-binary' (the default) stores strings as UTF-8, so LMDB's order is byte order.
      const root = open<Bytes, string>({ path: dir, encoding: 'binary', keyEncoding: 'ordered-binary' });
      const plain = root.openDB<Bytes, string>({ name: 'plain', encoding: 'binary' });
      const versioned = root.openDB<Bytes, string>({ name: 'versioned', encoding: 'binary' });
      return new LmdbKvStore(dir, root, plain, versioned, (options.durability ?? 'flush') === 'flush');
    } catch (err) {
      throw new StorageError(`cannot open the LMDB key-value store in ${dir}: ${errMessage(err)}`, { cause: err });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkKvKey(key);
    return view(this.read(() => this.plain.get(key)));
  }

  async batchGet(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    this.checkOpen();
    keys.forEach(checkKvKey);
    return this.read(() => keys.map((k) => view(this.plain.get(k))));
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.checkOpen();
    checkKvKey(key);
    checkBytes(value, `value for KV key ${JSON.stringify(key)}`);
    // lmdb copies asynchronously on its writer thread; copy now so later caller mutations cannot leak in.
    await this.queued(() => [this.plain.put(key, value.slice())]);
  }

  async batchPut(entries: KvEntry[]): Promise<void> {
    this.checkOpen();
    for (const e of entries) {
      checkKvKey(e.key);
      checkBytes(e.value, `value for KV key ${JSON.stringify(e.key)}`);
    }
    // Issued in one event turn, so lmdb commits them in one transaction.
    await this.queued(() => entries.map((e) => this.plain.put(e.key, e.value.slice())));
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    checkKvKey(key);
    await this.queued(() => [this.plain.remove(key), this.versioned.remove(key)]);
  }

  async batchDelete(keys: string[]): Promise<void> {
    this.checkOpen();
    keys.forEach(checkKvKey);
    await this.queued(() => keys.flatMap((k) => [this.plain.remove(k), this.versioned.remove(k)]));
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
    let remaining = limit ?? Number.POSITIVE_INFINITY;
    let from = start;
    let exclusiveStart = false;
    while (remaining > 0) {
      this.checkOpen();
      const want = Math.min(SCAN_PAGE, remaining);
      // One page per read: a consumer that awaits between entries never holds an LMDB reader open.
      const page = this.read(() => Array.from(this.plain.getRange({ start: from, end, limit: want, exclusiveStart })));
      for (const { key, value } of page) {
        if (!key.startsWith(prefix)) return;
        yield { key, value: view(value)! };
      }
      if (page.length < want) return;
      remaining -= page.length;
      from = page[page.length - 1].key;
      exclusiveStart = true;
    }
  }

  async putIfNewer(key: string, value: Uint8Array, version: bigint): Promise<boolean> {
    this.checkOpen();
    checkKvKey(key);
    checkBytes(value, `value for KV key ${JSON.stringify(key)}`);
    checkVersion(version, key);
    const stored = this.transact(() => this.setIfNewer(key, value, version));
    await this.flushed();
    return stored;
  }

  async getVersioned(key: string): Promise<{ value: Uint8Array; version: bigint } | undefined> {
    this.checkOpen();
    checkKvKey(key);
    return decodeVersioned(
      key,
      this.read(() => this.versioned.get(key)),
    );
  }

  async batchGetVersioned(keys: string[]): Promise<({ value: Uint8Array; version: bigint } | undefined)[]> {
    this.checkOpen();
    keys.forEach(checkKvKey);
    return this.read(() => keys.map((k) => decodeVersioned(k, this.versioned.get(k))));
  }

  async batchPutIfNewer(entries: { key: string; value: Uint8Array; version: bigint }[]): Promise<boolean[]> {
    this.checkOpen();
    for (const e of entries) {
      checkKvKey(e.key);
      checkBytes(e.value, `value for KV key ${JSON.stringify(e.key)}`);
      checkVersion(e.version, e.key);
    }
    const out: boolean[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i += CONDITIONAL_CHUNK) {
      if (i > 0) await yieldToEventLoop();
      this.checkOpen();
      const end = Math.min(entries.length, i + CONDITIONAL_CHUNK);
      this.transact(() => {
        for (let j = i; j < end; j++) out[j] = this.setIfNewer(entries[j].key, entries[j].value, entries[j].version);
      });
    }
    await this.flushed();
    return out;
  }

  async write(ops: KvWrite[]): Promise<void> {
    this.checkOpen();
    checkKvWrites(ops); // everything validated before the transaction starts
    if (ops.length === 0) return;
    this.transact(() => {
      for (const op of ops) {
        if (op.type === 'put') this.plain.putSync(op.key, op.value);
        else {
          this.plain.removeSync(op.key);
          this.versioned.removeSync(op.key);
        }
      }
    });
    await this.flushed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.root.close(); // waits for queued writes
    } catch (err) {
      throw new StorageError(`cannot close the LMDB key-value store in ${this.dir}: ${errMessage(err)}`, { cause: err });
    }
  }

  /** Compares and writes inside the current transaction; true when it stored. */
  private setIfNewer(key: string, value: Uint8Array, version: bigint): boolean {
    const cur = this.versioned.get(key);
    if (cur !== undefined && readVersion(key, cur) >= version) return false;
    const buf = Buffer.allocUnsafe(VERSION_BYTES + value.length);
    buf.writeBigUInt64BE(version, 0);
    buf.set(value, VERSION_BYTES);
    this.versioned.putSync(key, buf);
    return true;
  }

  /**
   * Removes plain and versioned keys inside the bounds, DELETE_CHUNK per transaction (a dropped
   * collection's PK index can hold millions of keys; one transaction would freeze the event loop).
   * Returns how many entries went.
   */
  private async removeMatching(range: KvRange): Promise<number> {
    const { start, end, prefix } = rangeBounds(range);
    let removed = 0;
    for (const db of [this.plain, this.versioned]) {
      for (;;) {
        this.checkOpen();
        const n = this.transact(() => {
          const keys: string[] = [];
          for (const key of db.getKeys({ start, end, limit: DELETE_CHUNK })) {
            if (!key.startsWith(prefix)) break; // prefix keys are contiguous in byte order
            keys.push(key);
          }
          for (const key of keys) db.removeSync(key);
          return keys.length;
        });
        removed += n;
        if (n < DELETE_CHUNK) break;
        await yieldToEventLoop();
      }
    }
    await this.flushed();
    return removed;
  }

  /** Runs `fn` in a synchronous write transaction (aborted if it throws), translating LMDB failures. */
  private transact<T>(fn: () => T): T {
    try {
      return this.root.transactionSync(fn, TXN_FLAGS);
    } catch (err) {
      throw this.storageError('write', err);
    }
  }

  /** Awaits asynchronous writes issued by `issue` (all in this turn, hence one LMDB transaction). */
  private async queued(issue: () => Promise<unknown>[]): Promise<void> {
    let pending: Promise<unknown>[];
    try {
      pending = issue();
    } catch (err) {
      throw this.storageError('write', err);
    }
    try {
      await Promise.all(pending);
    } catch (err) {
      throw this.storageError('write', err);
    }
    await this.flushed();
  }

  /** Waits until committed writes are on disk, in 'flush' durability. */
  private async flushed(): Promise<void> {
    if (this.waitForFlush) await this.root.flushed;
  }

  /** Runs a synchronous read, translating LMDB failures. */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.storageError('read', err);
    }
  }

  private storageError(op: 'read' | 'write', err: unknown): Error {
    if (err instanceof CorruptDataError || err instanceof NotFoundError || err instanceof StorageError) return err;
    if (err instanceof TypeError || err instanceof RangeError) return err;
    if (this.closed) return new StorageError(`LmdbKvStore in ${this.dir} is closed; open it again`, { cause: err });
    return new StorageError(`LMDB ${op} failed in ${this.dir}: ${errMessage(err)}`, { cause: err });
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(`LmdbKvStore in ${this.dir} is closed; open it again`);
  }
}

/** A plain Uint8Array view over lmdb's Buffer (no copy: lmdb returns a fresh buffer per read). */
function view(buf: Buffer | Uint8Array | undefined): Uint8Array | undefined {
  return buf === undefined ? undefined : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The version prefix of a stored versioned value. */
function readVersion(key: string, raw: Uint8Array): bigint {
  if (raw.length < VERSION_BYTES) {
    throw new CorruptDataError(`versioned KV value for key ${JSON.stringify(key)} is ${raw.length} bytes, shorter than its ${VERSION_BYTES}-byte version; the store is damaged`);
  }
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(0, false);
}

/** Splits a stored versioned value into version and value. */
function decodeVersioned(key: string, raw: Uint8Array | undefined): { value: Uint8Array; version: bigint } | undefined {
  if (raw === undefined) return undefined;
  const version = readVersion(key, raw);
  return { value: new Uint8Array(raw.buffer, raw.byteOffset + VERSION_BYTES, raw.byteLength - VERSION_BYTES), version };
}

/** Lets other work run between long synchronous transactions. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
