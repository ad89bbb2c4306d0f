/**
 * Catalog.allocateId loads a new block of ids with `await kv.get` / `await kv.put` and
 * then sets `nextId = start`. Two callers that both find the block exhausted (every first
 * allocation after an open, and every 1000th) both load the same block and both return `start`.
 * Callers run concurrently: segment ids in the apply loops of different collections, compaction
 * output ids outside any lock, compaction job ids, collection ids. Within one collection a
 * compaction output that gets the id of a new growing segment is silently skipped ("committed
 * before a restart") and both write chunks under the same object keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { Catalog } from '../../lib/engine/catalog/catalog.ts';

describe('id allocation', () => {
  it('concurrent allocations right after open return distinct ids', async () => {
    const catalog = new Catalog(new MemoryKvStore());
    const ids = await Promise.all([catalog.allocateId(), catalog.allocateId(), catalog.allocateId()]);
    assert.equal(new Set(ids).size, 3, `ids ${ids}`);
  });

  it('concurrent allocations at a block boundary return distinct ids', async () => {
    const kv = new MemoryKvStore();
    const catalog = new Catalog(kv);
    for (let i = 0; i < 1000; i++) await catalog.allocateId();
    const ids = await Promise.all([catalog.allocateId(), catalog.allocateId()]);
    assert.equal(new Set(ids).size, 2, `ids ${ids}`);
  });
});
