/** Recall of HNSW search and of filtered search against an exact scan, at four selectivities. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { clusteredVectors, exactTopK, memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';
const N = 20_000;
const DIM = 32;
const K = 10;
const QUERIES = 50;

describe('recall against exact search', () => {
  let db: EngineDatabase;
  let cleanup: () => Promise<void>;
  const vs = clusteredVectors(N, DIM, 11);
  const queries = clusteredVectors(QUERIES, DIM, 12);

  before(async () => {
    // Low exact-scan thresholds so 50 % and 10 % selectivity go through HNSW with over-fetching.
    ({ db, cleanup } = await memoryDatabase({ sealRows: 5000, exactSearchMaxCandidates: 64, exactSearchMaxSelectivity: 0.02 }));
    await db.createCollection(D, simpleSpec('c', DIM, { extraFields: [{ name: 'bucket', dataType: 'Int32' }] }));
    for (let b = 0; b < N; b += 2000) {
      await db.insert(
        D,
        'c',
        vs.slice(b, b + 2000).map((v, i) => ({ id: b + i, bucket: (b + i) % 1000, vector: Array.from(v) })),
        { upsert: false },
      );
    }
    await db.flush(D, 'c');
    for (let i = 0; i < 600; i++) {
      const [s] = await db.describeIndex(D, 'c', 'vector');
      if (s.state === 'Finished' && s.pendingRows === 0) break;
      await sleep(50);
    }
    const [s] = await db.describeIndex(D, 'c', 'vector');
    assert.equal(s.pendingRows, 0, 'all segments indexed before measuring');
  });
  after(() => cleanup());

  /** Recall at the engine's default search parameters. */
  async function recall(filter: string | undefined, pass: (i: number) => boolean): Promise<number> {
    let found = 0;
    let total = 0;
    for (const q of queries) {
      const truth = new Set(exactTopK(vs, q, K, pass).map(BigInt));
      const [hits] = await db.search(D, 'c', { vectors: [q], limit: K, filter });
      total += truth.size;
      for (const h of hits) if (truth.has(h.id as bigint)) found++;
      assert.equal(hits.length, truth.size, 'search returns limit rows when enough rows match');
    }
    return found / total;
  }

  it('unfiltered HNSW recall@10 >= 0.95', async () => {
    const r = await recall(undefined, () => true);
    console.log(`# unfiltered recall@10: ${r.toFixed(3)}`);
    assert.ok(r >= 0.95, `recall ${r}`);
  });

  for (const [pct, bound] of [
    [50, 500],
    [10, 100],
    [1, 10],
    [0.1, 1],
  ] as const) {
    it(`filtered recall@10 >= 0.95 at ${pct}% selectivity`, async () => {
      const r = await recall(`bucket < ${bound}`, (i) => i % 1000 < bound);
      console.log(`# filtered recall@10 at ${pct}% selectivity: ${r.toFixed(3)}`);
      assert.ok(r >= 0.95, `recall ${r} at ${pct}%`);
    });
  }
});
