/**
 * Query results come in primary-key order, as Milvus returns them: the standard export loop
 * (`filter: "id > last"`, `limit N`, cursor = the page's largest key; pymilvus's query iterator)
 * must see every live row exactly once across growing, sealed, flushed and compacted segments,
 * with keys moved to newer segments by upserts and keys deleted, for Int64 and VarChar keys, in the
 * engine and through the REST API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import type { PrimaryKey } from '../../lib/engine/schema/types.ts';
import { comparePrimaryKeys } from '../../lib/engine/segment-scope.ts';
import { ok, startTestServer, vector, type TestServer } from '../api/support.ts';
import { field } from '../support/data.ts';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';
const vec = (i: number) => [Math.sin(i), Math.cos(i), Math.sin(i * 3), 1];

/** Pages through `collection` by the export loop; returns every page. */
async function exportLoop(db: EngineDatabase, collection: string, pk: string, first: PrimaryKey, pageSize: number): Promise<Record<string, unknown>[][]> {
  const pages: Record<string, unknown>[][] = [];
  let last = first;
  for (;;) {
    const page = await db.query(D, collection, { filter: `${pk} > {last}`, exprParams: { last }, limit: pageSize, outputFields: [pk, 'tag'] });
    pages.push(page);
    if (page.length < pageSize) return pages;
    last = page[page.length - 1][pk] as PrimaryKey;
    assert.ok(pages.length < 10_000, 'the export loop does not end');
  }
}

/** Asserts the pages ascend strictly within and across pages and together hold exactly `live`. */
function assertExported(pages: Record<string, unknown>[][], pk: string, live: Map<PrimaryKey, string>): void {
  const seen: PrimaryKey[] = pages.flat().map((r) => r[pk] as PrimaryKey);
  for (let i = 1; i < seen.length; i++) assert.ok(comparePrimaryKeys(seen[i - 1], seen[i]) < 0, `keys out of order at ${i}: ${String(seen[i - 1])} then ${String(seen[i])}`);
  assert.equal(seen.length, live.size, `exported ${seen.length} rows, ${live.size} are live`);
  for (const row of pages.flat()) assert.equal(row.tag, live.get(row[pk] as PrimaryKey), `tag of ${String(row[pk])}`);
}

/** A deterministic permutation of 0..n-1 (keys arrive in no particular order). */
const scrambled = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + ((i * 7919) % n));

describe('query order', () => {
  let db: EngineDatabase;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ db, cleanup } = await memoryDatabase({ sealRows: 300, compactionIntervalMs: 0, idleSealMs: 3_600_000 }));
  });
  after(() => cleanup());

  it('returns ids inserted 5,3,1 then 4,2 as 1,2,3,4,5', async () => {
    await db.createCollection(D, simpleSpec('small', 4));
    await db.insert(
      D,
      'small',
      [5, 3, 1].map((id) => ({ id, vector: vec(id) })),
      { upsert: false },
    );
    await db.flush(D, 'small');
    await db.insert(
      D,
      'small',
      [4, 2].map((id) => ({ id, vector: vec(id) })),
      { upsert: false },
    );
    const rows = await db.query(D, 'small', { filter: 'id > 0', outputFields: ['id'] });
    assert.deepEqual(
      rows.map((r) => r.id),
      [1n, 2n, 3n, 4n, 5n],
    );
    const page = await db.query(D, 'small', { filter: 'id > 0', limit: 2, offset: 1, outputFields: ['id'] });
    assert.deepEqual(
      page.map((r) => r.id),
      [2n, 3n],
    );
  });

  it('exports every live Int64 row once across growing, sealed, compacted, upserted and deleted keys', async () => {
    await db.createCollection(D, simpleSpec('big', 4, { shards: 2, extraFields: [{ name: 'tag', dataType: 'VarChar', maxLength: 20, typeParams: { max_length: '20' } }] }));
    const live = new Map<PrimaryKey, string>();
    const insert = async (ids: number[], tag: string, upsert = false) => {
      for (let i = 0; i < ids.length; i += 250) {
        const batch = ids.slice(i, i + 250);
        await db.insert(
          D,
          'big',
          batch.map((id) => ({ id, vector: vec(id), tag })),
          { upsert },
        );
        for (const id of batch) live.set(BigInt(id), tag);
      }
    };
    await insert(scrambled(2000), 'first');
    await db.flush(D, 'big');
    const rt = db.runtimeOf('big');
    assert.ok((await rt.compact()) > 0, 'a compaction ran');
    await insert(scrambled(700, 2000), 'second'); // sealed at 300 rows per channel, the rest growing
    await insert([5, 100, 1500, 1999, 2100, 2650], 'upserted', true);
    const gone = [0, 7, 1234, 2001, 2699];
    await db.delete(D, 'big', `id in [${gone.join(',')}]`, {});
    await db.delete(D, 'big', 'id >= 1800 and id < 1850', {});
    for (const id of gone) live.delete(BigInt(id));
    for (let id = 1800; id < 1850; id++) live.delete(BigInt(id));

    const states: string[] = [...rt.segments.values()].map((s) => (s.meta.compactedFrom ? 'compacted' : s.meta.state));
    for (const state of ['compacted', 'Growing']) assert.ok(states.includes(state), `a ${state} segment among ${states.join(', ')}`);
    assert.ok(
      states.some((s) => s === 'Sealed' || s === 'Flushed'),
      `a sealed segment among ${states.join(', ')}`,
    );

    for (const pageSize of [97, 1000]) assertExported(await exportLoop(db, 'big', 'id', -1n, pageSize), 'id', live);
    const sorted = [...live.keys()].sort(comparePrimaryKeys);
    const page = await db.query(D, 'big', { filter: 'id >= 0', limit: 10, offset: 20, outputFields: ['id'] });
    assert.deepEqual(
      page.map((r) => r.id),
      sorted.slice(20, 30),
    );
    const all = await db.query(D, 'big', { filter: 'tag != "x"', outputFields: ['id'] });
    assert.deepEqual(
      all.map((r) => r.id),
      sorted,
    );
    const byKeys = await db.query(D, 'big', { filter: 'id in [2650, 3, 1500, 9]', outputFields: ['id', 'tag'] });
    assert.deepEqual(
      byKeys.map((r) => [r.id, r.tag]),
      [
        [3n, 'first'],
        [9n, 'first'],
        [1500n, 'upserted'],
        [2650n, 'upserted'],
      ],
    );
    assert.deepEqual(await db.query(D, 'big', { filter: 'id > 1000', outputFields: ['count(*)'] }), [{ 'count(*)': sorted.filter((k) => (k as bigint) > 1000n).length }]);
  });

  it('exports VarChar keys in UTF-8 byte order', async () => {
    await db.createCollection(D, {
      ...simpleSpec('names', 4, { shards: 2 }),
      schema: {
        fields: [
          field(100, 'name', 'VarChar', { isPrimary: true, maxLength: 64, typeParams: { max_length: '64' } }),
          field(101, 'vector', 'FloatVector', { dim: 4, typeParams: { dim: '4' } }),
          field(102, 'tag', 'VarChar', { maxLength: 20, typeParams: { max_length: '20' } }),
        ],
        enableDynamicField: false,
      },
    });
    const words = ['zeta', 'Alpha', 'alpha', 'é', 'ä', '日本', '😀', 'a😀', 'ab', 'a', '10', '9', 'Z', '\uffff', '\ue000'];
    const keys = scrambled(900).map((i) => `${words[i % words.length]}-${i}`);
    const live = new Map<PrimaryKey, string>();
    for (let i = 0; i < keys.length; i += 200) {
      const batch = keys.slice(i, i + 200);
      await db.insert(
        D,
        'names',
        batch.map((name, j) => ({ name, vector: vec(i + j), tag: 't' })),
        { upsert: false },
      );
      for (const k of batch) live.set(k, 't');
    }
    await db.insert(D, 'names', [{ name: keys[3], vector: vec(3), tag: 'u' }], { upsert: true });
    live.set(keys[3], 'u');
    await db.delete(D, 'names', `name in ["${keys[10]}", "${keys[11]}"]`, {});
    live.delete(keys[10]);
    live.delete(keys[11]);
    assertExported(await exportLoop(db, 'names', 'name', '', 50), 'name', live);
  });

  it('orders VarChar keys by UTF-8 bytes, not UTF-16 units', () => {
    const words = ['a', 'ab', 'b', '\uffff', '\u{10000}', '\uf800', '\ue000', 'é', '', '\u{1F600}x', 'ä', '\ud7ff'];
    const bytes = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual([...words].sort(comparePrimaryKeys), bytes);
    assert.equal(comparePrimaryKeys(10n, 9n), 1);
  });
});

describe('query order through the REST API', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('pages an export loop over flushed and growing rows in key order', async () => {
    ok(await s.post('collections/create', { collectionName: 'rest_order', dimension: 4 }));
    const ids = scrambled(500);
    for (let i = 0; i < ids.length; i += 100) {
      ok(await s.post('entities/insert', { collectionName: 'rest_order', data: ids.slice(i, i + 100).map((id) => ({ id, vector: vector(4, id) })) }));
      if (i === 200) ok(await s.post('collections/flush', { collectionName: 'rest_order' }));
    }
    const seen: number[] = [];
    let last = -1;
    for (;;) {
      const page = ok(await s.post('entities/query', { collectionName: 'rest_order', filter: `id > ${last}`, limit: 64, outputFields: ['id'] })).data as { id: number }[];
      seen.push(...page.map((r) => Number(r.id)));
      if (page.length < 64) break;
      last = Number(page[page.length - 1].id);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 500 }, (_, i) => i),
    );
  });
});
