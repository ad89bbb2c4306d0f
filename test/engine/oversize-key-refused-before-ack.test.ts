/**
 * A VarChar primary key longer than the KV key limit is acknowledged (it is within the
 * schema's max_length) but its PK-index key is rejected by the KvStore when the datanode applies
 * the record. The apply throws, the channel stops at that record for good (and again after every
 * restart), and every later acknowledged write on the channel stays invisible.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CollectionSpec } from '../../lib/engine/database.ts';
import { simpleSpec } from '../support/data.ts';
import { SharedStores } from '../support/crash-harness.ts';

const D = 'default';

function varcharSpec(): CollectionSpec {
  const spec = simpleSpec('c', 4);
  spec.schema.fields[0] = { ...spec.schema.fields[0], dataType: 'VarChar', maxLength: 4096, typeParams: { max_length: '4096' } };
  return spec;
}

describe('poison records', () => {
  it('a long (but schema-valid) VarChar primary key does not wedge the channel', async () => {
    const s = new SharedStores();
    const a = await s.open({ consistencyTimeoutMs: 300 });
    await a.db.createCollection(D, varcharSpec());
    const longKey = 'k'.repeat(2000); // within max_length 4096
    const res = await a.db.insert(D, 'c', [{ id: longKey, vector: [1, 2, 3, 4] }], { upsert: false });
    assert.deepEqual(res.ids, [longKey], 'the write was acknowledged');
    await a.db.insert(D, 'c', [{ id: 'short', vector: [1, 1, 1, 1] }], { upsert: false });
    // Invariant 3: Strong reads see acknowledged writes. Here the channel is dead instead.
    const got = await a.db.get(D, 'c', ['short'], { consistencyLevel: 'Strong' }).catch((e: Error) => e);
    assert.ok(!(got instanceof Error), `Strong get after acknowledged writes failed: ${(got as Error).message}`);
    assert.equal((got as unknown[]).length, 1);
    a.crash();
    s.cleanup();
  });
});

describe('poison records survive restarts', () => {
  it('after a restart the channel is still stuck at the poison record', async () => {
    const s = new SharedStores();
    const a = await s.open({ consistencyTimeoutMs: 300 });
    await a.db.createCollection(D, varcharSpec());
    await a.db.insert(D, 'c', [{ id: 'k'.repeat(2000), vector: [1, 2, 3, 4] }], { upsert: false });
    await a.db.insert(D, 'c', [{ id: 'short', vector: [1, 1, 1, 1] }], { upsert: false });
    a.crash();
    const b = await s.open({ consistencyTimeoutMs: 300 });
    const got = await b.db.get(D, 'c', ['short'], { consistencyLevel: 'Strong' }).catch((e: Error) => e);
    assert.ok(!(got instanceof Error), `after restart: ${(got as Error).message}`);
    await b.db.close();
    s.cleanup();
  });
});
