/**
 * Index files of object stores without local paths (memory here, S3 on AWS) are cached
 * under cacheDir/<object key>, and the cache is never invalidated. An index rebuilt for the same
 * segment and field (dropIndex + createIndex, e.g. another metric) is written under the same
 * object key, so `localFile` returns the stale cached file of the old index: the view fails the
 * metric check (the segment never gets its new index, describeIndex stays InProgress), and since
 * the catalog already names the file, the next open of the database throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import type { IndexSpec } from '../../lib/engine/schema/types.ts';
import { clusteredVectors, simpleSpec } from '../support/data.ts';
import { SharedStores, settle } from '../support/crash-harness.ts';

const D = 'default';

async function indexed(db: EngineDatabase): Promise<boolean> {
  for (let i = 0; i < 3000; i++) {
    // a safety timeout (60 s), not a timing assertion
    const [st] = await db.describeIndex(D, 'c', 'vector');
    if (st.state === 'Finished') return true;
    await settle(20);
  }
  return false;
}

async function rebuildWithCosine(s: SharedStores) {
  const a = await s.open();
  await a.db.createCollection(D, simpleSpec('c', 8, { metric: 'L2' }));
  const vs = clusteredVectors(200, 8, 5);
  await a.db.insert(
    D,
    'c',
    vs.map((v, i) => ({ id: i, vector: Array.from(v) })),
    { upsert: false },
  );
  await a.db.flush(D, 'c');
  assert.ok(await indexed(a.db), 'the L2 index was built');
  await a.db.releaseCollection(D, 'c');
  await a.db.dropIndex(D, 'c', 'vector');
  const cosine: IndexSpec = { indexName: 'vector', fieldName: 'vector', indexType: 'HNSW', metricType: 'COSINE', M: 16, efConstruction: 128, quantization: 'f32', params: {} };
  await a.db.createIndex(D, 'c', [cosine]);
  await a.db.loadCollection(D, 'c');
  return a;
}

describe('cached index files after an index rebuild', () => {
  it('the rebuilt index is attached', async () => {
    const s = new SharedStores();
    const a = await rebuildWithCosine(s);
    assert.ok(await indexed(a.db), 'the COSINE index of the flushed segment is built and attached');
    await a.db.close();
    s.cleanup();
  });

  it('the database opens after an index rebuild', async () => {
    const s = new SharedStores();
    const a = await rebuildWithCosine(s);
    const seg = [...a.db.runtimeOf('c').segments.values()][0];
    for (let i = 0; i < 3000 && !seg.meta.indexFiles.vector; i++) await settle(20); // the rebuild committed its file
    assert.ok(seg.meta.indexFiles.vector);
    await a.db.close();
    const b = await s.open().catch((e: Error) => e);
    assert.ok(!(b instanceof Error), `the database no longer opens: ${(b as Error).message}`);
    await b.db.close();
    s.cleanup();
  });
});
