/** Engine behaviour through the Database interface on in-memory adapters: writes, reads, errors. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { milvusCode, wireError } from '../../lib/api/error-codes.ts';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';
const vec = (i: number, dim = 4) => Array.from({ length: dim }, (_, j) => Math.sin(i * 7 + j));

async function rejectsWith(p: Promise<unknown>, code: number, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof Error && !wireError(err).internal, `expected a client error, got ${err}`);
    assert.equal(milvusCode(err), code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('engine basics', () => {
  let db: EngineDatabase;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ db, cleanup } = await memoryDatabase());
    await db.createCollection(
      D,
      simpleSpec('c', 4, { extraFields: [{ name: 'tag', dataType: 'VarChar', maxLength: 20, typeParams: { max_length: '20' } }], shards: 2, dynamic: true }),
    );
  });
  after(() => cleanup());

  it('inserts and reads back by get, query, count and search', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, vector: vec(i), tag: i % 2 ? 'odd' : 'even', extra: i * 10 }));
    const res = await db.insert(D, 'c', rows, { upsert: false });
    assert.equal(res.ids.length, 50);
    assert.equal(res.ids[3], 3n);
    assert.ok(res.sessionToken > 0n);
    const got = await db.get(D, 'c', [3n, 4n, 999n], {});
    assert.deepEqual(got.map((r) => r.id).sort(), [3n, 4n]);
    const r3 = got.find((r) => r.id === 3n)!;
    assert.equal(r3.tag, 'odd');
    assert.equal(r3.extra, 30);
    assert.ok(r3.vector instanceof Float32Array);
    const odd = await db.query(D, 'c', { filter: 'tag == "odd" and extra >= 200', outputFields: ['id'] });
    assert.equal(odd.length, 15);
    assert.deepEqual(await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] }), [{ 'count(*)': 50 }]);
    const [hits] = await db.search(D, 'c', { vectors: [Float32Array.from(vec(7))], limit: 5, outputFields: ['tag'] });
    assert.equal(hits.length, 5);
    assert.equal(hits[0].id, 7n);
    assert.equal(hits[0].distance, 0);
    assert.equal(hits[0].tag, 'odd');
  });

  it('treats insert of an existing key as an overwrite, also within one batch', async () => {
    await db.insert(
      D,
      'c',
      [
        { id: 3, vector: vec(3), tag: 'changed' },
        { id: 1000, vector: vec(1), tag: 'first' },
        { id: 1000, vector: vec(2), tag: 'second' },
      ],
      { upsert: false },
    );
    const got = await db.get(D, 'c', [3n, 1000n], {});
    assert.equal(got.length, 2);
    assert.equal(got.find((r) => r.id === 3n)!.tag, 'changed');
    assert.equal(got.find((r) => r.id === 1000n)!.tag, 'second');
    assert.deepEqual(await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] }), [{ 'count(*)': 51 }]);
    const all = await db.query(D, 'c', { filter: 'id >= 0', outputFields: ['id'] });
    assert.equal(new Set(all.map((r) => r.id)).size, all.length);
  });

  it('deletes by key list and by filter; deleted rows never come back', async () => {
    const byKey = await db.delete(D, 'c', 'id in [0, 1, 2]', {});
    assert.equal(byKey.deleteCount, 3);
    const byFilter = await db.delete(D, 'c', 'tag == "even"', {});
    assert.ok(byFilter.deleteCount > 0);
    assert.deepEqual(await db.get(D, 'c', [0n, 1n, 2n, 4n], {}), []);
    const left = await db.query(D, 'c', { filter: 'tag == "even"', outputFields: ['id'] });
    assert.equal(left.length, 0);
    const [hits] = await db.search(D, 'c', { vectors: [Float32Array.from(vec(4))], limit: 100 });
    assert.ok(!hits.some((h) => [0n, 1n, 2n, 4n].includes(h.id as bigint)));
    const count = (await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] }))[0]['count(*)'];
    assert.equal(hits.length, count, 'search returns every live row when limit exceeds the row count');
  });

  it('filtered search returns limit rows when enough rows match', async () => {
    const [hits] = await db.search(D, 'c', { vectors: [Float32Array.from(vec(0))], limit: 10, filter: 'tag == "odd"', outputFields: ['tag'] });
    assert.equal(hits.length, 10);
    assert.ok(hits.every((h) => h.tag === 'odd'));
  });

  it('answers nq > 1 searches with one list per query vector', async () => {
    const res = await db.search(D, 'c', { vectors: [Float32Array.from(vec(5)), Float32Array.from(vec(9))], limit: 3 });
    assert.equal(res.length, 2);
    assert.equal(res[0][0].id, 5n);
    assert.equal(res[1][0].id, 9n);
  });

  it('rejects bad input with Milvus codes and changes nothing', async () => {
    const before = (await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] }))[0]['count(*)'];
    await rejectsWith(db.insert(D, 'missing', [{ id: 1, vector: vec(1) }], { upsert: false }), 100, /can't find collection/);
    await rejectsWith(
      db.insert(
        D,
        'c',
        [
          { id: 5000, vector: vec(1) },
          { id: 5001, vector: [1, 2] },
        ],
        { upsert: false },
      ),
      1804,
    );
    await rejectsWith(db.query(D, 'c', { filter: 'id >>> 3', outputFields: ['id'] }), 1100);
    await rejectsWith(db.delete(D, 'c', 'nonsense ==', {}), 1100);
    await rejectsWith(db.search(D, 'c', { vectors: [new Float32Array(3)], limit: 3 }), 1801, /dimension/);
    await rejectsWith(db.get(D, 'c', [1n], { partitionNames: ['nope'] }), 200);
    const afterCount = (await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] }))[0]['count(*)'];
    assert.equal(afterCount, before);
  });

  it('honours Session tokens and the other consistency levels', async () => {
    const w = await db.insert(D, 'c', [{ id: 7777, vector: vec(7777), tag: 's' }], { upsert: true });
    const got = await db.get(D, 'c', [7777n], { consistencyLevel: 'Session', sessionToken: w.sessionToken });
    assert.equal(got.length, 1);
    const eventually = await db.query(D, 'c', { filter: 'id == 7777', consistencyLevel: 'Eventually', outputFields: ['id'] });
    assert.ok(eventually.length <= 1);
  });

  it('manages partitions, aliases and indexes', async () => {
    await db.createPartition(D, 'c', 'p1');
    await db.insert(D, 'c', [{ id: 9001, vector: vec(1), tag: 'p' }], { upsert: false, partitionName: 'p1' });
    assert.equal((await db.getPartitionStats(D, 'c', 'p1')).rowCount, 1);
    const inP1 = await db.query(D, 'c', { filter: 'id > 0', partitionNames: ['p1'], outputFields: ['id'] });
    assert.deepEqual(
      inP1.map((r) => r.id),
      [9001n],
    );
    await db.createAlias(D, 'c', 'c_alias');
    assert.equal((await db.get(D, 'c_alias', [9001n], {})).length, 1);
    await rejectsWith(db.createAlias(D, 'c', 'c_alias'), 1602);
    await db.dropPartition(D, 'c', 'p1');
    assert.deepEqual(await db.get(D, 'c', [9001n], {}), []);
    assert.deepEqual(await db.listIndexes(D, 'c'), ['vector']);
    await rejectsWith(db.dropIndex(D, 'c', 'vector'), 65535, /release/);
  });
});
