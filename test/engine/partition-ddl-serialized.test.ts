/**
 * CreatePartition now awaits `purgeDroppedPartitions()` between its "already exists" check
 * and the push, and partition DDL is not serialized (collection DDL goes through `ddl`, partition
 * DDL does not). Two concurrent creates of one name both pass the check: the collection ends up
 * listing the partition twice (Milvus answers the second with "partition already exists").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';

describe('concurrent partition DDL', () => {
  it('two concurrent creates of one partition create it once', async () => {
    const { db, cleanup } = await memoryDatabase({ compactionIntervalMs: 0 });
    await db.createCollection(D, simpleSpec('c', 4));
    const results = await Promise.allSettled([db.createPartition(D, 'c', 'p'), db.createPartition(D, 'c', 'p')]);
    assert.deepEqual(await db.listPartitions(D, 'c'), ['_default', 'p']);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], 'the second create is refused');
    await cleanup();
  });
});
