/**
 * Replay is deterministic only while sealRows/sealBytes stay the same. The applier trusts
 * that a replayed row lands where the PK-index entry written before the crash says
 * (`e.version === ts` → nothing is rewritten). When the seal threshold changed between runs
 * (an operator tuning MIGRANS_* knobs), replay seals the growing segment earlier, later rows go
 * to a new segment, and the PK index keeps pointing at offsets that no longer exist: get()
 * returns nothing (or junk), and an overwrite leaves the replayed row live next to the new one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleSpec } from '../support/data.ts';
import { SharedStores, allIds, countAll, rows } from '../support/crash-harness.ts';

const D = 'default';

describe('replay after a seal-threshold change', () => {
  it('rows replayed into a different segment layout are still found by key and overwritten exactly', async () => {
    const s = new SharedStores();
    const a = await s.open({ sealRows: 100 });
    await a.db.createCollection(D, simpleSpec('c', 4));
    for (let i = 0; i < 6; i++) await a.db.insert(D, 'c', rows([i]), { upsert: false });
    assert.equal(await countAll(a.db), 6); // all applied: PK entries point into one growing segment
    a.crash(); // nothing flushed: all six records are replayed

    const b = await s.open({ sealRows: 3 }); // the operator lowered the seal threshold
    await b.db.insert(D, 'c', rows([4], 4, 50), { upsert: true });
    assert.deepEqual(await allIds(b.db), [0n, 1n, 2n, 3n, 4n, 5n], 'one live row per key');
    assert.equal(await countAll(b.db), 6);
    await b.db.close();
    s.cleanup();
  });

  it('get by key finds rows replayed into a different segment layout', async () => {
    const s = new SharedStores();
    const a = await s.open({ sealRows: 100 });
    await a.db.createCollection(D, simpleSpec('c', 4));
    for (let i = 0; i < 6; i++) await a.db.insert(D, 'c', rows([i]), { upsert: false });
    assert.equal(await countAll(a.db), 6);
    a.crash();
    const b = await s.open({ sealRows: 3 });
    const got = await b.db.get(D, 'c', [4n], { outputFields: ['id'] });
    assert.deepEqual(got, [{ id: 4n }], 'get by key finds the replayed row');
    await b.db.close();
    s.cleanup();
  });
});
