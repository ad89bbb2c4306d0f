/**
 * The AWS deployment's write path when parts of it fail or run short, on the AWS roles (lib/aws)
 * over memory adapters (the roles only use the ports; the emulator tests cover the real adapters):
 * - with no compactor running at all, the datanode's scheduled sweep seals an idle channel and its
 *   acknowledged rows become durable in flushed segments; it reports the channel's checkpoint age;
 * - the compactor reads the vectors of the segments it merges only, one plan at a time, and defers
 *   a plan over its memory budget instead of running out of memory.
 */
import { proxyRole } from '../../lib/engine/roles/proxy.ts';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import { Compactor } from '../../lib/aws/compactor.ts';
import { Datanode } from '../../lib/aws/datanode.ts';
import { openRoleDatabase, type RoleStores } from '../../lib/aws/shared-stores.ts';
import { Catalog } from '../../lib/engine/catalog/catalog.ts';
import { channelName } from '../../lib/engine/channel-state.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { simpleSpec } from '../support/data.ts';
import { tempDir } from '../support/engine.ts';
import { ForwardingObjectStore } from '../support/store-faults.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const DIM = 4;
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ id: from + i, vector: [from + i, 1, 2, 3] }));

/** Counts reads of vector chunks (field 101 of simpleSpec) per segment, and logs every put and vector read in order. */
class CountingObjectStore extends ForwardingObjectStore {
  readonly vectorReads = new Map<number, number>();
  readonly log: string[] = [];
  private seen(key: string): void {
    const m = /^insert_log\/\d+\/[^/]+\/(\d+)\/101\//.exec(key);
    if (!m) return;
    const seg = Number(m[1]);
    this.vectorReads.set(seg, (this.vectorReads.get(seg) ?? 0) + 1);
    this.log.push(`read ${seg}`);
  }
  override async put(key: string, data: Uint8Array) {
    const m = /^insert_log\/\d+\/[^/]+\/(\d+)\//.exec(key);
    if (m) this.log.push(`put ${m[1]}`);
    return this.inner.put(key, data);
  }
  override async get(key: string) {
    this.seen(key);
    return this.inner.get(key);
  }
  override async getRange(key: string, offset: number, length: number) {
    this.seen(key);
    return this.inner.getRange(key, offset, length);
  }
}

describe('AWS write path: idle channels are sealed by the datanode, with no compactor', () => {
  const closing: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const c of closing.reverse()) await c.close();
  });

  it('an idle channel with acknowledged rows is flushed by the sweep and its checkpoint age goes back to 0', async () => {
    const stores: RoleStores = { kv: new MemoryKvStore(), wal: new MemoryWal(), objects: new MemoryObjectStore() };
    const config = { idleSealMs: 10_000 };
    const proxy = await openRoleDatabase(
      stores,
      'proxy',
      config,
      proxyRole(() => undefined),
    );
    closing.push(proxy);
    await proxy.createCollection('default', { ...simpleSpec('idle', DIM), indexes: [], load: false });
    await proxy.insert('default', 'idle', rows(0, 30), { upsert: false });
    const datanode = await Datanode.open(stores, config, () => undefined);
    closing.push(datanode);
    const info = (await new Catalog(stores.kv).listCollections())[0];
    const ch = channelName(info.collectionId, 0);
    // The Kinesis batch of the inserts: applied into a growing segment, not durable in S3 yet.
    assert.deepEqual([...(await datanode.apply([ch], Date.now() + 30_000))], []);
    const flushedRows = async () => (await new Catalog(stores.kv).listSegments(info.collectionId)).filter((m) => m.state === 'Flushed').reduce((n, m) => n + m.rowCount, 0);
    assert.equal(await flushedRows(), 0);

    // Not idle yet: nothing sealed, the age is reported.
    const early = await datanode.sweep(Date.now() + 3_000);
    assert.equal(early.length, 1);
    assert.equal(early[0].sealed, false);
    assert.ok(early[0].unflushedRecords > 0 && early[0].checkpointAgeSeconds >= 2, JSON.stringify(early));

    // Idle for longer than idleSealMs: the sweep seals; its flush record wakes the datanode.
    const later = await datanode.sweep(Date.now() + 11_000);
    assert.equal(later[0].sealed, true, JSON.stringify(later));
    assert.equal((await datanode.sweep(Date.now() + 12_000))[0].sealed, false, 'a channel already sealing gets no second flush record');
    assert.deepEqual([...(await datanode.apply([ch], Date.now() + 30_000))], []);
    assert.equal(await flushedRows(), 30, 'every acknowledged row is in a flushed segment');
    const after = await datanode.sweep(Date.now() + 20_000);
    assert.deepEqual(
      after.map((s) => [s.unflushedRecords, s.checkpointAgeSeconds, s.sealed]),
      [[0, 0, false]],
    );
  });

  it('a channel that keeps receiving rows is sealed once its oldest unflushed row is older than maxUnflushedAgeMs', async () => {
    const stores: RoleStores = { kv: new MemoryKvStore(), wal: new MemoryWal(), objects: new MemoryObjectStore() };
    // Never idle by idleSealMs (an hour), but rows older than a minute are forced out.
    const config = { idleSealMs: 3_600_000 };
    const proxy = await openRoleDatabase(
      stores,
      'proxy',
      config,
      proxyRole(() => undefined),
    );
    closing.push(proxy);
    await proxy.createCollection('default', { ...simpleSpec('trickle', DIM), indexes: [], load: false });
    await proxy.insert('default', 'trickle', rows(0, 5), { upsert: false });
    const datanode = await Datanode.open(stores, config, () => undefined, { maxUnflushedAgeMs: 60_000 });
    closing.push(datanode);
    assert.equal((await datanode.sweep(Date.now() + 30_000))[0].sealed, false, 'younger than a minute: left to grow');
    const [report] = await datanode.sweep(Date.now() + 61_000);
    assert.equal(report.sealed, true, JSON.stringify(report));
    assert.ok(report.checkpointAgeSeconds >= 60);
  });
});

describe('AWS compactor memory', () => {
  const closing: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const c of closing.reverse()) await c.close();
  });

  /** Two channels, each with three small flushed segments (a merge plan each) and one large one (merged by nobody). */
  async function segments(): Promise<{ stores: RoleStores; db: EngineDatabase; large: number[]; small: number[] }> {
    // About 64 bytes a row: merge outputs up to 100 rows; segments under 50 rows are small.
    const config = { maxSegmentBytes: 6400, compactionIntervalMs: 0, idleSealMs: 3_600_000 };
    const stores: RoleStores = { kv: new MemoryKvStore(), wal: new MemoryWal(), objects: new MemoryObjectStore() };
    const cache = tempDir();
    const db = await EngineDatabase.open({ ...stores, vectorIndexes: new UsearchIndexFactory(), localFiles: new FolderLocalFiles(cache.dir), config });
    closing.push({ close: async () => (await db.close(), cache.cleanup()) });
    await db.createCollection('default', { ...simpleSpec('merge', DIM, { shards: 2 }), indexes: [], load: false });
    await db.insert('default', 'merge', rows(0, 160), { upsert: false });
    await db.flush('default', 'merge');
    for (let i = 0; i < 3; i++) {
      await db.insert('default', 'merge', rows(1000 + i * 10, 1010 + i * 10), { upsert: false });
      await db.flush('default', 'merge');
    }
    const info = (await new Catalog(stores.kv).listCollections())[0];
    const metas = (await new Catalog(stores.kv).listSegments(info.collectionId)).filter((m) => m.state === 'Flushed');
    return { stores, db, large: metas.filter((m) => m.rowCount >= 50).map((m) => m.segmentId), small: metas.filter((m) => m.rowCount < 50).map((m) => m.segmentId) };
  }

  it('reads the vectors of the segments it merges only, one plan at a time', async () => {
    const { stores, large, small } = await segments();
    assert.equal(large.length, 2, 'one large segment per channel');
    assert.equal(small.length, 6, 'three small segments per channel');
    const objects = new CountingObjectStore(stores.objects);
    const compactor = await Compactor.open({ ...stores, objects }, { maxSegmentBytes: 6400 }, () => undefined, { memoryBudgetBytes: 1 << 30 });
    closing.push(compactor);
    assert.equal(objects.vectorReads.size, 0, 'opening reads no vector chunk');
    const run = await compactor.run();
    assert.deepEqual(run, { compactions: 2, deferred: 0 });
    for (const seg of large) assert.equal(objects.vectorReads.get(seg), undefined, `segment ${seg}, merged by no plan, had its vectors read`);
    assert.deepEqual([...objects.vectorReads.keys()].sort(), [...small].sort());
    // Plan 2 reads its inputs only after plan 1 wrote its output.
    const firstPut = objects.log.findIndex((l) => l.startsWith('put '));
    const inputsOfFirst = new Set(objects.log.slice(0, firstPut).map((l) => Number(l.split(' ')[1])));
    assert.equal(inputsOfFirst.size, 3, `one plan's three inputs are read before the first output is written: ${objects.log.join(', ')}`);
    const lastRead = objects.log.findLastIndex((l) => l.startsWith('read '));
    assert.ok(lastRead > firstPut, 'the second plan reads after the first wrote');
  });

  it('defers a plan over its memory budget, reading no vectors for it', async () => {
    const { stores } = await segments();
    const objects = new CountingObjectStore(stores.objects);
    const compactor = await Compactor.open({ ...stores, objects }, { maxSegmentBytes: 6400 }, () => undefined, { memoryBudgetBytes: 100 });
    closing.push(compactor);
    assert.deepEqual(await compactor.run(), { compactions: 0, deferred: 2 });
    assert.equal(objects.vectorReads.size, 0);
  });
});
