/**
 * A record whose apply fails half-way (a transient object-store error while persisting a
 * delta log) is retried in-process by the next kick of the channel's pump, but apply is not
 * failure-atomic: the first attempt already appended rows to the growing segment and set delete
 * bits in memory. The retry appends the rows again (two live rows for one key) and, because
 * `markDeleted` reports "already deleted", forgets to persist the delete on the flushed segment
 * (the deleted row comes back after a restart).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleSpec } from '../support/data.ts';
import { SharedStores, allIds, countAll, rows, settle } from '../support/crash-harness.ts';

const D = 'default';

/** Fails the next object put under `prefix`, once. */
function failNextPut(prefix: string) {
  let armed = true;
  return (port: string, method: string, args: unknown[]) => {
    if (armed && port === 'objects' && method === 'put' && String(args[0]).startsWith(prefix)) {
      armed = false;
      return true;
    }
    return false;
  };
}

describe('apply retry after a transient failure', () => {
  it('an upsert retried after a failed delta-log write leaves one row per key', async () => {
    const s = new SharedStores();
    const a = await s.open();
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.insert(D, 'c', rows([1]), { upsert: false });
    await a.db.flush(D, 'c'); // row 1 is in a flushed segment: overwriting it writes a delta log
    a.faults.push(failNextPut('delta_log/'));
    await a.db.insert(D, 'c', rows([1], 4, 100), { upsert: true }); // acknowledged; its apply fails once
    await settle();
    await a.db.insert(D, 'c', rows([2]), { upsert: false }); // kicks the pump: the upsert is retried
    await settle();
    assert.deepEqual(await allIds(a.db), [1n, 2n], 'query shows every key once');
    assert.equal(await countAll(a.db), 2);
    a.crash();
    s.cleanup();
  });

  it('a delete retried after a failed delta-log write does not come back after flush + restart', async () => {
    const s = new SharedStores();
    const a = await s.open();
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.insert(D, 'c', rows([1, 2, 3]), { upsert: false });
    await a.db.flush(D, 'c');
    a.faults.push(failNextPut('delta_log/'));
    await a.db.delete(D, 'c', 'id in [1]', {}); // acknowledged; its apply fails once
    await settle();
    await a.db.insert(D, 'c', rows([10]), { upsert: false }); // retry: the delete is applied in memory
    await settle();
    assert.deepEqual(await allIds(a.db), [2n, 3n, 10n]);
    await a.db.flush(D, 'c'); // checkpoint moves past the delete record, WAL truncated
    a.crash();
    const b = await s.open();
    assert.deepEqual(await allIds(b.db), [2n, 3n, 10n], 'deleted key 1 must not come back after restart');
    await b.db.close();
    s.cleanup();
  });
});

describe('stale channel error', () => {
  it('once the retried record applies, Strong reads no longer fail with the old error', async () => {
    const s = new SharedStores();
    const a = await s.open();
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.insert(D, 'c', rows([1]), { upsert: false });
    await a.db.flush(D, 'c');
    a.faults.push(failNextPut('delta_log/'));
    await a.db.delete(D, 'c', 'id in [1]', {});
    await settle();
    await a.db.insert(D, 'c', rows([2]), { upsert: false }); // retry succeeds
    await settle();
    assert.deepEqual(await allIds(a.db), [2n], 'the channel recovered');
    // A Strong read racing an in-flight write must wait for it, not fail with a stale error.
    const write = a.db.insert(D, 'c', rows([3]), { upsert: false });
    const read = await a.db.query(D, 'c', { filter: 'id >= 0', outputFields: ['id'] }).catch((e: Error) => e);
    await write;
    assert.ok(!(read instanceof Error), `Strong read failed on a healthy channel: ${(read as Error).message}`);
    a.crash();
    s.cleanup();
  });
});
