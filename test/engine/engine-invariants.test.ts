/** The architecture's invariants 1 and 4: one live row per key, and exact deletes, under concurrency. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusteredVectors, fileDatabase, rng, simpleSpec } from '../support/engine.ts';

const D = 'default';

describe('invariants', () => {
  it('concurrent upserts of colliding keys leave exactly one row per key', async () => {
    const { db, cleanup } = await fileDatabase({ sealRows: 500 });
    await db.createCollection(D, simpleSpec('c', 8, { shards: 3, extraFields: [{ name: 'writer', dataType: 'Int32' }] }));
    const vs = clusteredVectors(64, 8, 9);
    const keys = 300;
    const writers = 8;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const r = rng(w + 1);
        for (let round = 0; round < 10; round++) {
          const rows = Array.from({ length: 100 }, () => {
            const id = Math.floor(r() * keys);
            return { id, writer: w, vector: Array.from(vs[id % vs.length]) };
          });
          await db.insert(D, 'c', rows, { upsert: round % 2 === 0 });
        }
      }),
    );
    const all = await db.query(D, 'c', { filter: 'id >= 0', outputFields: ['id'] });
    const distinct = new Set(all.map((r) => r.id));
    assert.equal(all.length, distinct.size, 'query shows every key once');
    const [{ 'count(*)': n }] = await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] });
    assert.equal(n, distinct.size);
    const results = await db.search(D, 'c', { vectors: vs.slice(0, 8), limit: 200 });
    for (const hits of results) assert.equal(new Set(hits.map((h) => h.id)).size, hits.length, 'search never returns a key twice');
    await cleanup();
  });

  it('a deleted key never comes back through flush, compaction and restart', async () => {
    const config = { sealRows: 100, compactionIntervalMs: 0 };
    let { db, dir } = await fileDatabase(config);
    await db.createCollection(D, simpleSpec('c', 8));
    const vs = clusteredVectors(400, 8, 4);
    await db.insert(
      D,
      'c',
      vs.map((v, i) => ({ id: i, vector: Array.from(v) })),
      { upsert: false },
    );
    await db.flush(D, 'c');
    await db.delete(D, 'c', 'id % 3 == 0', {});
    const check = async () => {
      const rows = await db.query(D, 'c', { filter: 'id % 3 == 0', outputFields: ['id'] });
      assert.deepEqual(rows, []);
      const [hits] = await db.search(D, 'c', { vectors: [vs[3]], limit: 300 });
      assert.ok(hits.every((h) => (h.id as bigint) % 3n !== 0n));
      assert.equal(hits.length, 266);
    };
    await check();
    await db.runtimeOf('c').compact();
    await check();
    await db.close();
    ({ db } = await fileDatabase(config, dir));
    await check();
    await db.insert(D, 'c', [{ id: 3, vector: Array.from(vs[3]) }], { upsert: false });
    assert.equal((await db.get(D, 'c', [3n], {})).length, 1, 're-inserting a deleted key makes it live again');
    await db.close();
  });
});
