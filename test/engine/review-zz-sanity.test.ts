import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SharedStores, countAll, rows, allIds } from './review-harness.ts';
import { simpleSpec } from '../support/data.ts';
it('sanity', async () => {
  const s = new SharedStores();
  const a = await s.open();
  await a.db.createCollection('default', simpleSpec('c', 4));
  await a.db.insert('default', 'c', rows([1,2,3]), { upsert: false });
  await a.db.flush('default', 'c');
  await a.db.insert('default', 'c', rows([4,5]), { upsert: false });
  assert.equal(await countAll(a.db), 5);
  a.crash();
  const b = await s.open();
  assert.deepEqual(await allIds(b.db), [1n,2n,3n,4n,5n]);
  await b.db.close(); s.cleanup();
});
