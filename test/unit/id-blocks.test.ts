/**
 * The autoID allocator (lib/engine/catalog/id-blocks.ts): processes sharing one KV store never hand
 * out the same id, whatever their clocks say and however their claims race; ids look like Milvus's
 * (timestamp-sized, above 2^53) and stay positive int64.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { AutoIdAllocator } from '../../lib/engine/catalog/id-blocks.ts';
import { AUTO_ID_KEY } from '../../lib/engine/catalog/key-layout.ts';
import { CorruptDataError } from '../../lib/engine/errors.ts';
import { composeTs } from '../../lib/engine/tso.ts';

describe('autoID allocator', () => {
  it('gives processes sharing a store disjoint ids even when their claims race and their clocks differ', async () => {
    const kv = new MemoryKvStore();
    const base = 1_700_000_000_000;
    // Skewed clocks (one 5 ms behind, one 3 ms ahead) and a small block, so claims interleave often.
    const procs = [0, -5, 3].map((skew) => new AutoIdAllocator(kv, { blockSize: 100, clock: () => base + skew }));
    const batches = await Promise.all(procs.flatMap((p) => Array.from({ length: 40 }, (_, i) => p.allocate(1 + (i % 7) * 13))));
    const all = batches.flat();
    assert.equal(new Set(all).size, all.length, 'every id is unique');
    for (const b of batches) for (let i = 1; i < b.length; i++) assert.ok(b[i] > b[i - 1], 'one call gets increasing ids');
  });

  it('assigns timestamp-sized positive int64 ids above the ones the clock-based allocator gave before', async () => {
    const now = Date.now();
    const ids = await new AutoIdAllocator(new MemoryKvStore()).allocate(3);
    assert.ok(
      ids.every((id) => id >= composeTs(now, 0) && id > 2n ** 53n && id < 2n ** 63n),
      ids.join(','),
    );
  });

  it('serves a batch larger than one block, and a clock gone back never reuses ids', async () => {
    const kv = new MemoryKvStore();
    let clock = 1_700_000_000_000;
    const a = new AutoIdAllocator(kv, { blockSize: 10, clock: () => clock });
    const first = await a.allocate(35);
    clock -= 60_000;
    const second = await new AutoIdAllocator(kv, { blockSize: 10, clock: () => clock }).allocate(25);
    assert.equal(first.length, 35);
    assert.equal(new Set([...first, ...second]).size, 60);
    assert.ok(second[0] > first[first.length - 1]);
  });

  it('refuses a damaged block mark instead of handing out ids again', async () => {
    const kv = new MemoryKvStore();
    await new AutoIdAllocator(kv, { blockSize: 10 }).allocate(1);
    const [mark] = await kv.batchGetVersioned([AUTO_ID_KEY]);
    const damaged = Uint8Array.from(mark!.value);
    damaged[0] ^= 0x10;
    await kv.batchPutIfNewer([{ key: AUTO_ID_KEY, value: damaged, version: mark!.version + 1n }]);
    await assert.rejects(new AutoIdAllocator(kv, { blockSize: 10 }).allocate(1), (err) => err instanceof CorruptDataError && err.message.includes(AUTO_ID_KEY));
  });
});
