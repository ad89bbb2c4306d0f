import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerOf, viewScope } from '../../lib/aws/querynode-view.ts';
import type { SegmentMeta } from '../../lib/engine/catalog/catalog.ts';
import { segmentPlacementKey } from '../../lib/engine/segment-scope.ts';

const keys = Array.from({ length: 2000 }, (_, i) => `${i % 4}/_default/${i * 7}`);
const view = ['qn-a', 'qn-b', 'qn-c', 'qn-d'];

function meta(over: Partial<SegmentMeta>): SegmentMeta {
  return {
    segmentId: 1,
    collectionId: 9,
    partition: '_default',
    channel: 0,
    state: 'Flushed',
    startPosition: 0n,
    prevTs: 0n,
    rowCount: 1,
    sealRows: 10,
    sealBytes: 1e9,
    indexFiles: {},
    ...over,
  };
}

describe('segment assignment over a view', () => {
  it('gives every key exactly one owner, and every node a share', () => {
    const shares = new Map<string, number>();
    for (const key of keys) {
      const owner = ownerOf(key, view)!;
      assert.ok(view.includes(owner), `owner ${owner} of ${key} is in the view`);
      const scopes = view.map((self) => viewScope(view, self));
      const m = meta({ channel: Number(key.split('/')[0]), startPosition: BigInt(key.split('/')[2]) });
      assert.equal(scopes.filter((scope) => scope(m)).length, 1, `exactly one node serves ${key}`);
      shares.set(owner, (shares.get(owner) ?? 0) + 1);
    }
    for (const id of view) assert.ok((shares.get(id) ?? 0) > keys.length / 10, `${id} serves ${shares.get(id) ?? 0} of ${keys.length} keys`);
  });

  it('moves only the keys of a node that leaves the view', () => {
    const smaller = view.filter((id) => id !== 'qn-b');
    for (const key of keys) {
      const before = ownerOf(key, view);
      const after = ownerOf(key, smaller);
      if (before !== 'qn-b') assert.equal(after, before, `${key} stays on ${before}`);
      else assert.ok(after !== undefined && after !== 'qn-b', `${key} of the lost node moves to ${after}`);
    }
  });

  it('does not depend on the order of the view', () => {
    for (const key of keys.slice(0, 200)) assert.equal(ownerOf(key, [...view].reverse()), ownerOf(key, view), `owner of ${key}`);
  });

  it('names segments the same in every process, whatever their id', () => {
    assert.equal(
      segmentPlacementKey(meta({ segmentId: 5, startPosition: 12n })),
      segmentPlacementKey(meta({ segmentId: 1e12 + 3, startPosition: 12n })),
      'a private id does not change the key',
    );
    assert.notEqual(segmentPlacementKey(meta({ startPosition: 12n })), segmentPlacementKey(meta({ startPosition: 13n })), 'different starts are different segments');
    assert.notEqual(
      segmentPlacementKey(meta({ segmentId: 7, compactedFrom: [1, 2] })),
      segmentPlacementKey(meta({ segmentId: 8, compactedFrom: [3] })),
      'compaction outputs are named by their shared id',
    );
  });
});
