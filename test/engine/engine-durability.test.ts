/** Durability through restarts on the embedded (file) adapters: WAL replay, flushed segments, indexes, compaction. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { clusteredVectors, fileDatabase, simpleSpec, tempDir, waitIndexed } from '../support/engine.ts';

const D = 'default';

async function count(db: EngineDatabase, name = 'c'): Promise<number> {
  return (await db.query(D, name, { filter: '', outputFields: ['count(*)'] }))[0]['count(*)'] as number;
}

describe('durability', () => {
  it('replays acknowledged writes from the WAL after a close without flush', async () => {
    const tmp = tempDir();
    let { db } = await fileDatabase({}, tmp.dir);
    await db.createCollection(D, simpleSpec('c', 8));
    const vs = clusteredVectors(300, 8);
    await db.insert(
      D,
      'c',
      vs.map((v, i) => ({ id: i, vector: Array.from(v) })),
      { upsert: false },
    );
    await db.delete(D, 'c', 'id < 10', {});
    await db.close();
    ({ db } = await fileDatabase({}, tmp.dir));
    assert.equal(await count(db), 290);
    assert.deepEqual(await db.get(D, 'c', [5n], {}), []);
    assert.equal((await db.get(D, 'c', [50n], {})).length, 1);
    await db.close();
    tmp.cleanup();
  });

  it('keeps flushed segments, delta logs and indexes across restarts, and compaction keeps deletes exact', async () => {
    const tmp = tempDir();
    const config = { sealRows: 200, compactionIntervalMs: 0 };
    let { db } = await fileDatabase(config, tmp.dir);
    await db.createCollection(D, simpleSpec('c', 8, { shards: 2 }));
    const vs = clusteredVectors(1000, 8, 3);
    for (let b = 0; b < 10; b++) {
      await db.insert(
        D,
        'c',
        vs.slice(b * 100, b * 100 + 100).map((v, i) => ({ id: b * 100 + i, vector: Array.from(v) })),
        { upsert: false },
      );
    }
    await db.flush(D, 'c');
    await waitIndexed(db);
    // Overwrite some, delete a third of the rows: segments become dirty enough to rewrite.
    await db.insert(
      D,
      'c',
      vs.slice(0, 50).map((v, i) => ({ id: i, vector: Array.from(v).map((x) => x + 1) })),
      { upsert: true },
    );
    await db.delete(D, 'c', 'id >= 600', {});
    assert.equal(await count(db), 600);
    await db.close();

    ({ db } = await fileDatabase(config, tmp.dir));
    assert.equal(await count(db), 600);
    assert.deepEqual(await db.get(D, 'c', [700n], {}), []);
    const [row] = await db.get(D, 'c', [1n], { outputFields: ['vector'] });
    assert.ok(Math.abs((row.vector as Float32Array)[0] - (vs[1][0] + 1)) < 1e-6, 'the overwrite survived the restart');

    const rt = db.runtimeOf('c');
    const segmentsBefore = rt.segments.size;
    const plans = await rt.compact();
    assert.ok(plans > 0, 'compaction found work');
    assert.ok(rt.segments.size < segmentsBefore);
    assert.equal(await count(db), 600);
    assert.deepEqual(await db.get(D, 'c', [700n, 999n], {}), []);
    const all = await db.query(D, 'c', { filter: 'id >= 0', outputFields: ['id'] });
    assert.equal(all.length, 600);
    assert.equal(new Set(all.map((r) => r.id)).size, 600);
    const [hits] = await db.search(D, 'c', { vectors: [vs[700]], limit: 20 });
    assert.ok(
      hits.every((h) => (h.id as bigint) < 600n),
      'deleted rows never come back in search',
    );
    await db.close();

    ({ db } = await fileDatabase(config, tmp.dir));
    assert.equal(await count(db), 600);
    assert.deepEqual(await db.get(D, 'c', [700n], {}), []);
    assert.equal((await db.get(D, 'c', [10n], {})).length, 1);
    await db.delete(D, 'c', 'id in [10, 11]', {});
    assert.equal(await count(db), 598);
    await db.close();
    tmp.cleanup();
  });
});
