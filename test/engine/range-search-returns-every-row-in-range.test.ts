/**
 * Range search asks each segment for its top max(limit + offset, ef, 256) rows and only
 * then keeps those inside [rangeFilter, radius). When more than that many rows of a segment lie
 * closer than rangeFilter (near-duplicates are common), every row inside the ring is cut off
 * before the bounds are applied and the search returns fewer than `limit` rows although plenty
 * of live rows match (invariant 4's last clause).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';

describe('range search', () => {
  it('returns limit rows when enough rows lie inside [range_filter, radius)', async () => {
    const { db, cleanup } = await memoryDatabase({ compactionIntervalMs: 0 });
    await db.createCollection(D, simpleSpec('c', 4, { metric: 'L2' }));
    const near = Array.from({ length: 300 }, (_, i) => ({ id: i, vector: [0, 0, 0, 0] })); // distance 0
    const ring = Array.from({ length: 20 }, (_, i) => ({ id: 1000 + i, vector: [1, 0, 0, 0] })); // distance 1
    await db.insert(D, 'c', [...near, ...ring], { upsert: false });
    const [hits] = await db.search(D, 'c', { vectors: [new Float32Array([0, 0, 0, 0])], limit: 10, radius: 4, rangeFilter: 0.5 });
    assert.equal(hits.length, 10, `20 rows are at distance 1, inside [0.5, 4); got ${hits.length}`);
    assert.ok(hits.every((h) => (h.id as bigint) >= 1000n));
    await cleanup();
  });
});
