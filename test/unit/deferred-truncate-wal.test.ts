/** DeferredTruncateWal: a datanode's checkpoint does not cut off a querynode that is a few records behind. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { DeferredTruncateWal } from '../../lib/aws/deferred-truncate-wal.ts';

const rec = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array([i]));

describe('DeferredTruncateWal', () => {
  it('keeps records readable until the truncation has aged the grace period, then truncates', async () => {
    let now = 0;
    const inner = new MemoryWal();
    const wal = new DeferredTruncateWal(inner, 1000, () => now);
    await wal.append('c1-0', rec(10));
    await wal.truncate('c1-0', 4n);
    assert.equal((await wal.read('c1-0', 0n, 100)).length, 10, 'a lagging reader still reads from position 0');
    now = 500;
    await wal.truncate('c1-0', 8n);
    assert.equal((await wal.read('c1-0', 0n, 100)).length, 10, 'no request is old enough yet');
    now = 1200;
    await wal.truncate('c1-0', 9n);
    await assert.rejects(wal.read('c1-0', 3n, 100), /truncated/, 'the first request (before 4) has aged and applied');
    assert.equal((await wal.read('c1-0', 4n, 100)).length, 6, 'the newer requests wait their turn');
    now = 2600;
    await wal.truncate('c1-0', 10n);
    await assert.rejects(wal.read('c1-0', 8n, 100), /truncated/, 'the newest aged request (before 9) wins');
    assert.equal((await wal.read('c1-0', 9n, 100)).length, 1, 'position 9 is still there');
  });

  it('forgets pending truncations of a dropped channel', async () => {
    let now = 0;
    const wal = new DeferredTruncateWal(new MemoryWal(), 1000, () => now);
    await wal.append('c1-0', rec(5));
    await wal.truncate('c1-0', 5n);
    await wal.dropChannel('c1-0');
    await wal.append('c1-0', rec(3));
    now = 5000;
    await wal.truncate('c1-0', 1n);
    assert.equal((await wal.read('c1-0', 1n, 100)).length, 2, 'the old request (before 5) was not applied to the new channel');
  });
});
