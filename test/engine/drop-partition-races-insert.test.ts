/**
 * DropPartition resolves the partition's live keys, appends a delete for them and only
 * then removes the partition from the collection info. An insert into the partition that passes
 * the partition check meanwhile is acknowledged, applied after the scan, and its rows stay live
 * forever in a partition that no longer exists: they show up in unpartitioned query/count/search
 * (and come back "inside" the partition if one of that name is created again).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { milvusCode } from '../../lib/api/error-codes.ts';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';
import { SharedStores, allIds, rows, settle } from '../support/crash-harness.ts';

const D = 'default';

describe('dropPartition vs concurrent inserts', () => {
  it('rows of a dropped partition never stay visible', async () => {
    const { db, cleanup } = await memoryDatabase({ compactionIntervalMs: 0 });
    await db.createCollection(D, simpleSpec('c', 4));
    await db.createPartition(D, 'c', 'p');
    await db.insert(D, 'c', rows([1]), { upsert: false, partitionName: 'p' });
    await db.insert(D, 'c', rows([100]), { upsert: false });
    assert.deepEqual(await allIds(db), [1n, 100n]); // everything applied: the channel is caught up
    const drop = db.dropPartition(D, 'c', 'p');
    // Racing the drop: either refused (partition not found) or accepted and then deleted with the partition.
    const insert = db.insert(D, 'c', rows([2]), { upsert: false, partitionName: 'p' }).catch((err) => assert.equal(milvusCode(err), 200));
    await Promise.all([drop, insert]);
    assert.deepEqual(await db.listPartitions(D, 'c'), ['_default']);
    assert.deepEqual(await allIds(db), [100n], 'only rows of existing partitions are visible');
    await db.createPartition(D, 'c', 'p');
    assert.equal((await db.getPartitionStats(D, 'c', 'p')).rowCount, 0, 'a re-created partition starts empty');
    await cleanup();
  });

  it('an insert accepted just before the drop is deleted with the partition', async () => {
    const { db, cleanup } = await memoryDatabase({ compactionIntervalMs: 0 });
    await db.createCollection(D, simpleSpec('c', 4));
    await db.createPartition(D, 'c', 'p');
    const insert = db.insert(D, 'c', rows([7]), { upsert: false, partitionName: 'p' }); // passes the check first
    const drop = db.dropPartition(D, 'c', 'p');
    await Promise.all([insert, drop]);
    assert.deepEqual(await allIds(db), []);
    await db.createPartition(D, 'c', 'p');
    assert.equal((await db.getPartitionStats(D, 'c', 'p')).rowCount, 0);
    await cleanup();
  });
});

describe('dropPartition interrupted', () => {
  it('a crash after the partition is hidden but before its rows are deleted does not leave them reachable', async () => {
    const s = new SharedStores();
    let armed = false;
    const a = await s.open({}, (i) =>
      i.before.push((port, method) => {
        if (armed && port === 'wal' && method === 'append') {
          i.crash(); // the process dies as dropPartition appends its delete
          return Promise.resolve();
        }
      }),
    );
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.createPartition(D, 'c', 'p');
    await a.db.insert(D, 'c', rows([1]), { upsert: false, partitionName: 'p' });
    await a.db.insert(D, 'c', rows([100]), { upsert: false });
    assert.deepEqual(await allIds(a.db), [1n, 100n]);
    armed = true;
    void a.db.dropPartition(D, 'c', 'p'); // never settles: the process is gone
    await settle(50);

    const b = await s.open();
    assert.deepEqual(await b.db.listPartitions(D, 'c'), ['_default'], 'the drop was committed');
    assert.deepEqual(await allIds(b.db), [100n]);
    assert.deepEqual(await b.db.get(D, 'c', [1n], {}), [], 'get agrees with query: key 1 is gone');
    await b.db.createPartition(D, 'c', 'p');
    assert.equal((await b.db.getPartitionStats(D, 'c', 'p')).rowCount, 0, 'a re-created partition starts empty');
    assert.deepEqual(await allIds(b.db), [100n]);
    await b.db.close();
    s.cleanup();
  });
});
