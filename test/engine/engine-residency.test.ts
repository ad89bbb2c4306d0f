/**
 * Segment residency: a process that keeps only its share of the flushed segments in memory (a
 * querynode, its Residency policy) leaves the others' vectors in the object store (not on local
 * disk) with no index attached, takes a segment in when a read's scope needs it, and lets it go
 * again when idle —
 * answering exactly as when everything was in memory. A process that never reads vectors (a
 * datanode, VectorlessSegments) opens flushed segments without them.
 */
import { EVERY_CHANNEL } from '../../lib/engine/roles/collection-role.ts';
import { VectorlessSegments } from '../../lib/engine/read/vectorless-segments.ts';
import { Residency } from '../../lib/engine/read/residency.ts';
import { LocalIndexScheduler } from '../../lib/engine/index/local-index-scheduler.ts';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import type { SegmentMeta } from '../../lib/engine/catalog/catalog.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { segmentPlacementKey } from '../../lib/engine/segment-scope.ts';
import type { Segment } from '../../lib/engine/segment/segment.ts';
import { clusteredVectors, simpleSpec, tempDir, waitIndexed } from '../support/engine.ts';
import { SharedStores } from '../support/crash-harness.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const D = 'default';
const DIM = 8;

function state(db: EngineDatabase, seg: Segment) {
  const local = db.runtimeOf('c').role.segments.hasLocalVectors?.(seg) ?? true;
  return { resident: seg.resident, indexes: seg.indexes.size, vectorsOnDisk: seg.vectorColumn('vector').loading, local };
}

describe('segment residency', () => {
  it('keeps only the share in memory and on disk, takes a segment in for a read that needs it and releases it when idle, with the same answers', async () => {
    const tmp = tempDir();
    let share: ((meta: SegmentMeta) => boolean) | undefined; // undefined: every segment stays in memory
    const db = await EngineDatabase.open({
      kv: new MemoryKvStore(),
      wal: new MemoryWal(),
      objects: new MemoryObjectStore(), // no local files: chunks are copied into the cache dir
      vectorIndexes: new UsearchIndexFactory(),
      localFiles: new FolderLocalFiles(tmp.dir),
      config: { compactionIntervalMs: 0 },
      role: (state) => {
        const indexes = new LocalIndexScheduler(state);
        return { share: EVERY_CHANNEL, indexes, segments: new Residency(state, indexes, (meta) => share?.(meta) ?? true) };
      },
    });
    try {
      await db.createCollection(D, simpleSpec('c', DIM));
      const vectors = clusteredVectors(600, DIM, 3);
      for (let b = 0; b < 4; b++) {
        const rows = vectors.slice(b * 150, (b + 1) * 150).map((v, i) => ({ id: b * 150 + i, vector: Array.from(v) }));
        await db.insert(D, 'c', rows, { upsert: false });
        await db.flush(D, 'c');
      }
      await waitIndexed(db);
      await db.delete(D, 'c', 'id in [3, 160, 590]', {});
      const segments = [...db.runtimeOf('c').segments.values()].filter((s) => s.meta.state === 'Flushed');
      assert.equal(segments.length, 4, 'four flushed segments');
      const [mine, other] = segments;
      const keyOf = (s: Segment) => segmentPlacementKey(s.meta);
      const queries = clusteredVectors(8, DIM, 77);
      const searchAll = () => Promise.all(queries.map(async (q) => (await db.search(D, 'c', { vectors: [q], limit: 10, outputFields: ['vector'] }))[0]));
      const otherOnly = (meta: SegmentMeta) => segmentPlacementKey(meta) === keyOf(other);
      const searchOther = () => db.search(D, 'c', { vectors: queries, limit: 10, scope: otherOnly });
      const before = await searchAll();
      const otherBefore = await searchOther();

      share = (meta) => segmentPlacementKey(meta) === keyOf(mine);
      await db.applyResidency(0);
      assert.deepEqual(state(db, mine), { resident: true, indexes: 1, vectorsOnDisk: false, local: true }, 'the segment of the share stays in memory with its index');
      for (const seg of segments.slice(1)) {
        assert.deepEqual(state(db, seg), { resident: false, indexes: 0, vectorsOnDisk: false, local: false }, `segment ${seg.id} outside the share left memory and the local disk`);
      }

      // Gets and queries fetch the vectors they return to local disk and read them there.
      const got = await db.get(D, 'c', [170n], { outputFields: ['vector'], scope: otherOnly });
      assert.deepEqual(
        got.map((r) => [r.id, Array.from(r.vector as Float32Array)]),
        [[170n, Array.from(vectors[170])]],
      );
      const rows = await db.query(D, 'c', { filter: 'id >= 150 and id < 160', outputFields: ['vector'] });
      assert.deepEqual(
        rows.map((r) => Array.from(r.vector as Float32Array)),
        vectors.slice(150, 160).map((v) => Array.from(v)),
      );
      assert.equal(other.resident, false, 'a get or query does not take a released segment in');
      assert.equal(state(db, other).local, true, 'the vectors a get fetched are on local disk');

      // A read whose scope holds a released segment takes it in first, index included.
      assert.deepEqual(await searchOther(), otherBefore, 'a scoped search over a released segment answers as before');
      assert.deepEqual(
        state(db, other),
        { resident: true, indexes: 1, vectorsOnDisk: state(db, other).vectorsOnDisk, local: true },
        'the segment the read needed is in memory with its index',
      );

      // Recently read: kept for the idle time; released once idle.
      await db.applyResidency(60_000);
      assert.equal(other.resident, true, 'a segment read moments ago is not released before it is idle');
      await db.applyResidency(0);
      assert.equal(other.resident, false, 'an idle segment outside the share is released');

      // An unscoped read takes everything in and answers as before.
      assert.deepEqual(await searchAll(), before, 'an unscoped search answers as with every segment in memory');
      for (const seg of segments) assert.equal(seg.resident, true, `segment ${seg.id} was taken in by the unscoped read`);

      // A delete applied while its segment is on disk holds once the segment is read again.
      await db.applyResidency(0);
      assert.equal(other.resident, false);
      const victim = otherBefore[0][0]; // the best hit of the first query within the released segment
      await db.delete(D, 'c', `id in [${victim.id}]`, {});
      const [hits] = await db.search(D, 'c', { vectors: [queries[0]], limit: 10, scope: otherOnly });
      assert.ok(!hits.some((h) => h.id === victim.id), `row ${victim.id}, deleted while its segment was on disk, is not returned`);
      assert.equal(hits.length, 10);

      // The share grows back: applyResidency takes in what the policy now keeps.
      await db.applyResidency(0);
      share = undefined;
      await db.applyResidency(0);
      for (const seg of segments) assert.deepEqual(state(db, seg).resident, true, `segment ${seg.id} is in memory again`);
    } finally {
      await db.close();
      tmp.cleanup();
    }
  });

  it('a process opening flushed segments outside its share fetches none of their vectors until a read returns or searches them', async () => {
    const stores = new SharedStores();
    const writer = await stores.open();
    await writer.db.createCollection(D, simpleSpec('c', DIM));
    const vectors = clusteredVectors(400, DIM, 9);
    for (let b = 0; b < 4; b++) {
      const rows = vectors.slice(b * 100, (b + 1) * 100).map((v, i) => ({ id: b * 100 + i, vector: Array.from(v) }));
      await writer.db.insert(D, 'c', rows, { upsert: false });
      await writer.db.flush(D, 'c');
    }
    await waitIndexed(writer.db);
    const queries = clusteredVectors(4, DIM, 31);
    const expected = await writer.db.search(D, 'c', { vectors: queries, limit: 5, outputFields: ['vector'] });
    await writer.db.close();

    // A querynode's view: the same stores (no local files: chunks are fetched into its cache), one segment its share.
    let mineKey: string | undefined;
    const node = await stores.open(undefined, undefined, (state) => {
      const indexes = new LocalIndexScheduler(state);
      return { share: EVERY_CHANNEL, indexes, segments: new Residency(state, indexes, (meta) => segmentPlacementKey(meta) === (mineKey ??= segmentPlacementKey(meta))) };
    });
    try {
      const segments = [...node.db.runtimeOf('c').segments.values()].filter((seg) => seg.meta.state === 'Flushed');
      assert.equal(segments.length, 4, 'four flushed segments');
      const vectorChunks = () => fs.readdirSync(stores.cache, { recursive: true, encoding: 'utf8' }).filter((f) => /insert_log.*\/101\/1$/.test(f));
      const others = segments.filter((seg) => segmentPlacementKey(seg.meta) !== mineKey);
      // The share's segment is read into memory whole (this object store has no local files); the others' chunks stay in the store.
      assert.deepEqual(vectorChunks(), [], 'no vector chunk of a segment outside the share is fetched');
      assert.throws(() => others[0].vectorColumn('vector').get(0), /vectors not fetched: the segment is outside this process's share/);

      // A get returning vectors fetches the chunk of the segment holding the row, and no other.
      const id = Number(others[0].pks[3]);
      const got = await node.db.get(D, 'c', [BigInt(id)], { outputFields: ['vector'] });
      assert.deepEqual(Array.from(got[0].vector as Float32Array), Array.from(vectors[id]));
      assert.equal(vectorChunks().length, 1, "the get fetched that segment's chunk only");
      assert.equal(others[0].resident, false, 'a get does not take the segment into memory');

      // An unscoped search takes every segment in (fetching the rest) and answers as the writer did.
      assert.deepEqual(await node.db.search(D, 'c', { vectors: queries, limit: 5, outputFields: ['vector'] }), expected);
      assert.equal(vectorChunks().length, 3, 'a search over every segment fetched the chunks of the three outside the share');
    } finally {
      await node.db.close();
      stores.cleanup();
    }
  });

  it('a process that never reads vectors opens flushed segments without them and still applies deletes and upserts exactly', async () => {
    const stores = new SharedStores();
    const writer = await stores.open();
    await writer.db.createCollection(D, simpleSpec('c', DIM));
    const vectors = clusteredVectors(300, DIM, 5);
    await writer.db.insert(
      D,
      'c',
      vectors.map((v, i) => ({ id: i, vector: Array.from(v) })),
      { upsert: false },
    );
    await writer.db.flush(D, 'c');
    await waitIndexed(writer.db);
    await writer.db.close();

    // A datanode's view: same stores, no vectors.
    const datanode = await stores.open(undefined, undefined, (state) => ({
      share: EVERY_CHANNEL,
      indexes: new LocalIndexScheduler(state),
      segments: new VectorlessSegments(state),
    }));
    const [flushed] = [...datanode.db.runtimeOf('c').segments.values()];
    assert.equal(flushed.meta.state, 'Flushed');
    assert.equal(flushed.indexes.size, 0, 'no index file is opened');
    assert.throws(() => flushed.vectorColumn('vector').get(0), /opened without its vectors.*never reads them/);
    await datanode.db.delete(D, 'c', 'id in [7, 8]', {});
    await datanode.db.insert(D, 'c', [{ id: 9, vector: Array.from(vectors[0]) }], { upsert: true });
    await datanode.db.flush(D, 'c');
    await datanode.db.close();

    const reader = await stores.open();
    try {
      const got = await reader.db.get(D, 'c', [7n, 8n, 9n, 10n], { outputFields: ['vector'] });
      assert.deepEqual(
        got.map((r) => [r.id, Array.from(r.vector as Float32Array)]),
        [
          [9n, Array.from(vectors[0])],
          [10n, Array.from(vectors[10])],
        ],
      );
      assert.deepEqual(await reader.db.query(D, 'c', { filter: '', outputFields: ['count(*)'] }), [{ 'count(*)': 298 }]);
    } finally {
      await reader.db.close();
      stores.cleanup();
    }
  });
});
