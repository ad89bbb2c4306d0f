/**
 * Compaction bookkeeping that never settles.
 *  - planCompactions' `close()` treats a segment as dirty when `deletedCount >= rowCount *
 *    deleteRatio`, which holds for an empty segment (0 >= 0). A compaction whose inputs were all
 *    deleted produces an empty output, which the next run "compacts" again into another empty
 *    output, forever: a WAL record, a catalog meta, chunk files and an index build per run.
 *  - Compaction outputs have no WAL range (endPosition undefined), so once they are compacted
 *    again their Dropped metas are never removed by doCheckpoint (it removes Dropped metas whose
 *    endPosition the checkpoint passed): the catalog grows with every merge of merged segments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SegmentMeta } from '../../lib/engine/catalog/catalog.ts';
import { decodeJson } from '../../lib/engine/catalog/json-codec.ts';
import { simpleSpec } from '../support/data.ts';
import { SharedStores, allIds, rows } from '../support/crash-harness.ts';

const D = 'default';

async function catalogSegments(s: SharedStores): Promise<SegmentMeta[]> {
  const out: SegmentMeta[] = [];
  for await (const e of s.kv.scan({ prefix: 'meta/segment/' })) out.push(decodeJson<SegmentMeta>(e.value));
  return out;
}

describe('compaction reaches a fixpoint', () => {
  it('a fully deleted segment is compacted away once, not again on every run', async () => {
    const s = new SharedStores();
    const a = await s.open({ sealRows: 100 });
    await a.db.createCollection(D, simpleSpec('c', 4));
    await a.db.insert(D, 'c', rows([1, 2, 3]), { upsert: false });
    await a.db.flush(D, 'c');
    await a.db.delete(D, 'c', 'id >= 0', {});
    assert.deepEqual(await allIds(a.db), []);
    const rt = a.db.runtimeOf('c');
    assert.equal(await rt.compact(), 1);
    assert.equal(await rt.compact(), 0, 'nothing is left to compact');
    await a.db.close();
    s.cleanup();
  });

  it('metas of compacted-away compaction outputs do not pile up in the catalog', async () => {
    const s = new SharedStores();
    const a = await s.open({ sealRows: 100 });
    await a.db.createCollection(D, simpleSpec('c', 4));
    const rt = a.db.runtimeOf('c');
    for (let round = 0; round < 5; round++) {
      await a.db.insert(D, 'c', rows([2 * round, 2 * round + 1]), { upsert: false });
      await a.db.flush(D, 'c');
      await rt.compact(); // merges the previous output with the new small segment
    }
    await a.db.flush(D, 'c'); // checkpoint: no WAL record before it can be replayed any more
    const metas = await catalogSegments(s);
    const live = metas.filter((m) => m.state !== 'Dropped');
    assert.equal(live.length, 1);
    assert.deepEqual(
      metas.filter((m) => m.state === 'Dropped').map((m) => m.segmentId),
      [],
      'no Dropped metas left once the checkpoint passed them',
    );
    await a.db.close();
    s.cleanup();
  });
});
