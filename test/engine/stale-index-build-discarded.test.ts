/**
 * An index build that was running when its index spec was dropped and re-created (another
 * metric) finishes afterwards and attaches its index anyway: buildIndex checks the spec only
 * before the (long) build, not before committing it. The queued build for the new spec then sees
 * "already indexed" and skips. The segment keeps an L2 graph under a COSINE spec (wrong scores),
 * the catalog records it, and on restart `attachIndexes` rejects the file's metric, so the whole
 * database fails to open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexSpec } from '../../lib/engine/schema/types.ts';
import { clusteredVectors, simpleSpec } from '../support/data.ts';
import { SharedStores, settle } from '../support/crash-harness.ts';

const D = 'default';

/** Flushes a segment, holds its L2 index build just before commit, swaps the spec to COSINE, then lets the build finish. */
async function raceSetup() {
  const s = new SharedStores();
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  let reached!: () => void;
  const atPut = new Promise<void>((r) => (reached = r));
  let first = true;
  const a = await s.open({}, (i) =>
    i.before.push((port, method, args) => {
      if (first && port === 'objects' && method === 'put' && String(args[0]).startsWith('index_files/')) {
        first = false;
        reached();
        return gate; // the L2 build is between "built" and "committed"
      }
    }),
  );
  await a.db.createCollection(D, simpleSpec('c', 8, { metric: 'L2' }));
  const vs = clusteredVectors(200, 8, 5);
  await a.db.insert(
    D,
    'c',
    vs.map((v, i) => ({ id: i, vector: Array.from(v) })),
    { upsert: false },
  );
  await a.db.flush(D, 'c');
  await atPut;
  await a.db.releaseCollection(D, 'c');
  await a.db.dropIndex(D, 'c', 'vector');
  const cosine: IndexSpec = { indexName: 'vector', fieldName: 'vector', indexType: 'HNSW', metricType: 'COSINE', M: 16, efConstruction: 128, quantization: 'f32', params: {} };
  await a.db.createIndex(D, 'c', [cosine]);
  openGate();
  for (let i = 0; i < 200; i++) {
    const [st] = await a.db.describeIndex(D, 'c', 'vector');
    if (st.state === 'Finished') break;
    await settle(20);
  }
  await settle(100);
  await a.db.loadCollection(D, 'c');
  return { s, a, vs };
}

describe('index build racing dropIndex + createIndex', () => {
  it('search after the swap scores with the new metric', async () => {
    const { s, a, vs } = await raceSetup();
    const [hits] = await a.db.search(D, 'c', { vectors: [vs[7]], limit: 3 });
    assert.equal(hits[0].id, 7n, 'the nearest row to a stored vector is itself');
    assert.ok(Math.abs((hits[0].distance as number) - 1) < 1e-3, `COSINE similarity of a vector with itself is 1, got ${hits[0].distance}`);
    await a.db.close();
    s.cleanup();
  });

  it('the database still opens after the swap', async () => {
    const { s, a } = await raceSetup();
    await a.db.close();
    const b = await s.open().catch((e: Error) => e);
    assert.ok(!(b instanceof Error), `the database no longer opens: ${(b as Error).message}`);
    await b.db.close();
    s.cleanup();
  });
});
