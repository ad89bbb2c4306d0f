/**
 * Filtered search reuses a filter's per-segment matches (filter-matches.ts): results must stay exact
 * as rows are deleted and added after the matches were cached, for selective filters (exact scan of
 * the cached matches) and unselective ones (graph search testing the filter lazily).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { clusteredVectors, exactTopK, memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';
const N = 6_000;
const DIM = 16;

describe('filtered search with cached filter matches', () => {
  let db: EngineDatabase;
  let cleanup: () => Promise<void>;
  const vs = clusteredVectors(N + 200, DIM, 21);
  const queries = clusteredVectors(20, DIM, 22);
  const deleted = new Set<number>();
  let rows = N;

  before(async () => {
    ({ db, cleanup } = await memoryDatabase({ sealRows: 3000, exactSearchMaxCandidates: 32, exactSearchMaxSelectivity: 0.01 }));
    await db.createCollection(D, simpleSpec('c', DIM, { extraFields: [{ name: 'bucket', dataType: 'Int32' }] }));
    await db.insert(
      D,
      'c',
      vs.slice(0, N).map((v, i) => ({ id: i, bucket: i % 100, vector: Array.from(v) })),
      { upsert: false },
    );
    await db.flush(D, 'c');
    for (let i = 0; i < 600; i++) {
      const [s] = await db.describeIndex(D, 'c', 'vector');
      if (s.state === 'Finished' && s.pendingRows === 0) break;
      await sleep(50);
    }
  });
  after(() => cleanup());

  async function check(filter: string, pass: (i: number) => boolean): Promise<void> {
    const live = (i: number) => i < rows && !deleted.has(i) && pass(i);
    for (const q of queries) {
      const [hits] = await db.search(D, 'c', { vectors: [q], limit: 10, filter, ef: 256, consistencyLevel: 'Strong' });
      const ids = hits.map((h) => h.id as bigint);
      for (const id of ids) assert.ok(live(Number(id)), `row ${id} is deleted or does not pass ${filter}`);
      const truth = exactTopK(vs, q, 10, live).map(BigInt);
      assert.equal(ids.length, truth.length, `${filter}: limit rows when enough rows match`);
      if (filter.includes('==')) assert.deepEqual(new Set(ids), new Set(truth), `${filter}: a selective filter is scanned exactly`);
    }
  }

  it('selective and unselective filters stay exact across deletes and new rows', async () => {
    const selective = 'bucket == 7';
    const middle = 'bucket < 2'; // evaluated in full (cached), then searched in the graph
    const unselective = 'bucket < 60';
    await check(selective, (i) => i % 100 === 7);
    await check(middle, (i) => i % 100 < 2);
    await check(unselective, (i) => i % 100 < 60);
    // Delete matching rows of the sealed segments after their matches were cached.
    const gone = Array.from({ length: 30 }, (_, j) => 7 + 100 * j).concat(Array.from({ length: 30 }, (_, j) => 1 + 100 * j));
    for (let j = 0; j < 600; j += 3) gone.push(j);
    for (const i of gone) deleted.add(i);
    await db.delete(D, 'c', `id in [${gone.join(',')}]`, {});
    await check(selective, (i) => i % 100 === 7);
    await check(middle, (i) => i % 100 < 2);
    await check(unselective, (i) => i % 100 < 60);
    // New rows land in a growing segment, which is evaluated afresh.
    await db.insert(
      D,
      'c',
      vs.slice(N, N + 200).map((v, j) => ({ id: N + j, bucket: (N + j) % 100, vector: Array.from(v) })),
      { upsert: false },
    );
    rows = N + 200;
    await check(selective, (i) => i % 100 === 7);
    await check(middle, (i) => i % 100 < 2);
    await check(unselective, (i) => i % 100 < 60);
  });

  it('template values are part of the filter identity', async () => {
    for (const b of [3, 4]) {
      const [hits] = await db.search(D, 'c', { vectors: [queries[0]], limit: 5, filter: 'bucket == {b}', exprParams: { b }, consistencyLevel: 'Strong' });
      assert.ok(hits.length > 0);
      for (const h of hits) assert.equal(Number(h.id) % 100, b);
    }
  });
});
