/**
 * ApplyCompact sets `state = 'Dropped'` on the input segments' in-memory metas before the
 * catalog write that commits the swap. When that write fails (transient KV error) the record is
 * rolled back and retried, but the inputs stay in `segments` marked "Dropped". A checkpoint of the
 * channel in that window (a background flush finishing, flush(), ...) no longer treats them as
 * flushed (it skips only state 'Flushed') and moves the channel's replay point back to their
 * start, which the WAL has already truncated: after a restart the channel cannot read its WAL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJson } from '../../lib/engine/catalog/json-codec.ts';
import type { KvWrite } from '../../lib/engine/ports/kv-store.ts';
import { simpleSpec } from '../support/data.ts';
import { SharedStores, allIds, rows } from '../support/crash-harness.ts';

const D = 'default';

describe('failed compaction commit', () => {
  it('a checkpoint while the commit is being retried does not move the replay point back', async () => {
    const s = new SharedStores();
    const a = await s.open({ sealRows: 100, consistencyTimeoutMs: 1500 });
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.insert(D, 'c', rows([1, 2, 3]), { upsert: false });
    await a.db.flush(D, 'c');
    await a.db.insert(D, 'c', rows([4, 5, 6]), { upsert: false });
    await a.db.flush(D, 'c'); // two small flushed segments; the WAL is truncated past both
    const rt = a.db.runtimeOf('c');
    let failed = false;
    a.faults.push((port, method, args) => {
      if (failed || port !== 'kv' || method !== 'write') return false;
      const ops = args[0] as KvWrite[];
      const hit = ops.some((op) => op.type === 'put' && op.key.startsWith('meta/segment/') && decodeJson<{ state: string }>(op.value).state === 'Dropped');
      if (hit) failed = true;
      return hit;
    });
    const compaction = rt.compact();
    while (!failed) await new Promise((r) => setImmediate(r));
    await rt.checkpoint(rt.channels[0]); // e.g. a background flush of another segment completing now
    assert.equal(await compaction, 1);
    assert.deepEqual(await allIds(a.db), [1n, 2n, 3n, 4n, 5n, 6n]);
    a.crash();
    const b = await s.open({ sealRows: 100, consistencyTimeoutMs: 1500 });
    const ids = await allIds(b.db).catch((e: Error) => e);
    assert.ok(!(ids instanceof Error), `after restart: ${(ids as Error).message}`);
    assert.deepEqual(ids, [1n, 2n, 3n, 4n, 5n, 6n]);
    await b.db.close();
    s.cleanup();
  });
});
