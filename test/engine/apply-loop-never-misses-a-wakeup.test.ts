/**
 * Lost wake-up between an append's acknowledgment and the end of the apply loop.
 * `kick()` only sets `pumpAgain` when `ch.pumping` is set, but `ch.pumping` is cleared in a
 * `.finally` that runs one microtask after `pump()` has already decided to stop. An append that
 * is acknowledged in that window (its kick sees the old loop, sets `pumpAgain`, and returns) is
 * never applied until some later write kicks the channel again: Strong reads time out and the
 * acknowledged write stays invisible.
 *
 * The Wal below is a valid Wal: a record becomes readable exactly when its append is acknowledged
 * (as with FileWal, whose reads only see acknowledged records). It merely acknowledges one append
 * at an unlucky moment: while the consumer's read of the (then empty) tail is returning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import type { Wal, WalPosition, WalRecord } from '../../lib/engine/ports/wal.ts';
import { simpleSpec } from '../support/data.ts';
import { rows } from '../support/crash-harness.ts';
import { tempDir } from '../support/engine.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const D = 'default';

/** Holds the next append until a read of that channel comes back empty, then lands and acknowledges it. */
class UnluckyWal implements Wal {
  readonly inner = new MemoryWal();
  holdNext = false;
  private held: { channel: string; records: Uint8Array[]; resolve(p: WalPosition): void } | null = null;

  append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    if (this.holdNext) {
      this.holdNext = false;
      return new Promise((resolve) => (this.held = { channel, records, resolve }));
    }
    return this.inner.append(channel, records);
  }

  async read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    const out = await this.inner.read(channel, from, limit);
    const h = this.held;
    if (out.length === 0 && h && h.channel === channel) {
      this.held = null;
      h.resolve(await this.inner.append(h.channel, h.records));
    }
    return out;
  }

  tail(channel: string) {
    return this.inner.tail(channel);
  }
  truncate(channel: string, before: WalPosition) {
    return this.inner.truncate(channel, before);
  }
  dropChannel(channel: string) {
    return this.inner.dropChannel(channel);
  }
  close() {
    return this.inner.close();
  }
}

describe('apply-loop wake-up', () => {
  it('a write acknowledged while the apply loop is winding down is still applied', async () => {
    const { dir: cache, cleanup } = tempDir('migrans-crash-harness-');
    const wal = new UnluckyWal();
    const db = await EngineDatabase.open({
      kv: new MemoryKvStore(),
      wal,
      objects: new MemoryObjectStore(),
      vectorIndexes: new UsearchIndexFactory(),
      localFiles: new FolderLocalFiles(cache),
      config: { consistencyTimeoutMs: 1000, compactionIntervalMs: 0 },
    });
    await db.createCollection(D, simpleSpec('c', 4));
    const first = db.insert(D, 'c', rows([1]), { upsert: false });
    wal.holdNext = true;
    const second = db.insert(D, 'c', rows([2]), { upsert: false });
    await first;
    await second; // acknowledged: code 0
    const got = await db.get(D, 'c', [2n], { consistencyLevel: 'Strong', outputFields: ['id'] }).catch((e: Error) => e);
    assert.ok(!(got instanceof Error), `Strong get of an acknowledged write failed: ${(got as Error).message}`);
    assert.deepEqual(got, [{ id: 2n }]);
    await db.close();
    cleanup();
  });
});
