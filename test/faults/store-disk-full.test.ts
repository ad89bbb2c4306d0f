/**
 * Fault tests for a full disk (issue 10 item 12): while the disk is full an insert gets a clear
 * "disk is full" error and nothing of it is written; once space is free again the same collection
 * accepts inserts without a restart, and every acknowledged row is there exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { milvusCode } from '../../lib/api/error-codes.ts';
import { DiskLimitError } from '../../lib/engine/errors.ts';
import { fileDatabase, simpleSpec } from '../support/engine.ts';
import { injectDiskFull } from '../support/store-faults.ts';

const D = 'default';
const row = (id: number) => ({ id, vector: [id, 1] });

test('after the disk fills, a collection accepts inserts again as soon as space is free, without a restart', async () => {
  const disk = await injectDiskFull();
  let { db, dir } = await fileDatabase();
  try {
    await db.createCollection(D, simpleSpec('c', 2));
    await db.createCollection(D, simpleSpec('fresh', 2)); // its first write creates its WAL file
    await db.insert(D, 'c', [row(1), row(2)], { upsert: false });

    disk.fill();
    for (const [name, attempt] of [
      ['c', 1],
      ['c', 2],
      ['fresh', 1],
    ] as const) {
      const err = await db.insert(D, name, [row(3)], { upsert: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof DiskLimitError, `${name} attempt ${attempt}: a client error, got ${err}`);
      assert.equal(milvusCode(err), 7, 'Milvus disk-limit code');
      assert.match(err.message, /disk .*full/i);
      assert.match(err.message, /nothing .*written/i);
    }
    disk.free();

    await db.insert(D, 'c', [row(4)], { upsert: false });
    await db.insert(D, 'fresh', [row(5)], { upsert: false });
    const ids = async (name: string) => (await db.query(D, name, { filter: 'id >= 0', outputFields: ['id'] })).map((r) => Number(r.id)).sort((a, b) => a - b);
    assert.deepEqual(await ids('c'), [1, 2, 4], 'every acknowledged row once, nothing of the refused insert');
    assert.deepEqual(await ids('fresh'), [5]);
    await db.close();
    ({ db } = await fileDatabase({}, dir));
    assert.deepEqual(await ids('c'), [1, 2, 4], 'the same after a restart');
    assert.deepEqual(await ids('fresh'), [5]);
  } finally {
    disk.restore();
    await db.close();
  }
});
