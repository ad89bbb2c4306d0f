/**
 * A process that follows a WAL other processes write (a querynode) backs its tail polling off
 * while nothing moves — a consistent read per channel every 2 s at most instead of one every
 * follow interval — and still sees a new write: at once for a read that waits for a timestamp
 * (it learns the tails itself), within the idle pause for an Eventually read. A Bounded read needs
 * no tail read of its own while the background's last one is newer than its guarantee; a Strong read
 * always makes one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import { Catalog } from '../../lib/engine/catalog/catalog.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import type { Wal } from '../../lib/engine/ports/wal.ts';
import { simpleSpec, tempDir } from '../support/engine.ts';

const D = 'default';

/** `wal` counting its tail reads. */
function countingTails(wal: Wal): { wal: Wal; tails: () => number } {
  let n = 0;
  const counted: Wal = {
    append: (channel, records) => wal.append(channel, records),
    read: (channel, from, limit) => wal.read(channel, from, limit),
    tail: (channel) => {
      n++;
      return wal.tail(channel);
    },
    truncate: (channel, before) => wal.truncate(channel, before),
    dropChannel: (channel) => wal.dropChannel(channel),
    close: async () => {},
  };
  return { wal: counted, tails: () => n };
}

describe('following the WAL of other processes', () => {
  it('polls the tails less and less while idle, and sees a new write', async () => {
    const tmp = tempDir();
    const stores = { kv: new MemoryKvStore(), wal: new MemoryWal(), objects: new MemoryObjectStore() };
    const common = {
      objects: stores.objects,
      kv: stores.kv,
      vectorIndexes: new UsearchIndexFactory(),
      localFiles: new FolderLocalFiles(tmp.dir),
      config: { compactionIntervalMs: 0 },
    };
    const writer = await EngineDatabase.open({ ...common, wal: stores.wal });
    await writer.createCollection(D, simpleSpec('c', 4));
    const counted = countingTails(stores.wal);
    // A querynode's composition: its own catalog and PK index, collections discovered in the shared catalog.
    const own = new MemoryKvStore();
    const follower = await EngineDatabase.open({
      ...common,
      kv: own,
      wal: counted.wal,
      followMs: 10,
      catalogSource: new Catalog(stores.kv),
      beforeOpen: (info) => new Catalog(own).putCollection(info),
    });
    try {
      await follower.refreshCatalog();
      const before = counted.tails();
      await sleep(1000);
      const idle = counted.tails() - before;
      // 100 ticks of 10 ms: without the backoff, one tail read per tick.
      assert.ok(idle <= 25, `${idle} tail reads in an idle second at a 10 ms follow interval`);

      await writer.insert(D, 'c', [{ id: 1, vector: [1, 0, 0, 0] }], { upsert: false });
      const strong = await follower.query(D, 'c', { filter: 'id == 1', consistencyLevel: 'Strong', outputFields: [] });
      assert.deepEqual(strong, [{ id: 1n }], 'a Strong read sees the write at once');

      await writer.insert(D, 'c', [{ id: 2, vector: [0, 1, 0, 0] }], { upsert: false });
      let eventually: unknown[] = [];
      for (let i = 0; i < 100 && eventually.length === 0; i++) {
        eventually = await follower.query(D, 'c', { filter: 'id == 2', consistencyLevel: 'Eventually', outputFields: [] });
        if (eventually.length === 0) await sleep(50);
      }
      assert.deepEqual(eventually, [{ id: 2n }], 'an Eventually read sees the write once the follower polls again');

      const reads = 20;
      let start = counted.tails();
      for (let i = 0; i < reads; i++) await follower.query(D, 'c', { filter: 'id >= 0', consistencyLevel: 'Bounded', outputFields: [] });
      const bounded = counted.tails() - start;
      start = counted.tails();
      for (let i = 0; i < reads; i++) await follower.query(D, 'c', { filter: 'id >= 0', consistencyLevel: 'Strong', outputFields: [] });
      const strongTails = counted.tails() - start;
      // The background's own polls (at most one per 2 s once idle) may land among the Bounded reads.
      assert.ok(bounded <= 3, `${reads} Bounded reads made ${bounded} tail reads: the background's last one already covers their guarantee`);
      assert.ok(strongTails >= reads, `${reads} Strong reads made ${strongTails} tail reads: each must read the tail itself`);
    } finally {
      await follower.close();
      await writer.close();
      tmp.cleanup();
    }
  });
});
