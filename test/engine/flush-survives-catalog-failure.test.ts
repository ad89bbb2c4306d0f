/**
 * FlushSegment sets `seg.meta.state = 'Flushed'` in memory before the catalog write that
 * makes it so. When that write fails (a transient KV error), the segment stays in memory as
 * "Flushed" while the catalog says "Sealed": the next checkpoint of the channel no longer holds
 * the replay point at the segment's start, truncates the WAL past its rows, and after a restart
 * the acknowledged rows are gone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJson } from '../../lib/engine/catalog/json-codec.ts';
import type { KvWrite } from '../../lib/engine/ports/kv-store.ts';
import { simpleSpec } from '../support/data.ts';
import { SharedStores, allIds, rows } from '../support/crash-harness.ts';

const D = 'default';

describe('failed flush commit', () => {
  it('acknowledged rows survive a failed "Flushed" catalog write followed by a checkpoint and a restart', async () => {
    const s = new SharedStores();
    const a = await s.open();
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.insert(D, 'c', rows([1, 2, 3]), { upsert: false });
    let armed = true;
    a.faults.push((port, method, args) => {
      if (!armed || port !== 'kv' || method !== 'write') return false;
      const ops = args[0] as KvWrite[];
      const hit = ops.some((op) => op.type === 'put' && op.key.startsWith('meta/segment/') && decodeJson<{ state: string }>(op.value).state === 'Flushed');
      if (hit) armed = false;
      return hit;
    });
    await a.db.flush(D, 'c'); // the flush task fails (logged); flush() then checkpoints the channel
    assert.deepEqual(await allIds(a.db), [1n, 2n, 3n]);
    a.crash();
    const b = await s.open();
    assert.deepEqual(await allIds(b.db), [1n, 2n, 3n], 'acknowledged rows lost after restart');
    await b.db.close();
    s.cleanup();
  });
});
