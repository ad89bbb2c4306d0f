import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdersOf, ownerOf, servingNode, viewScope } from '../../lib/aws/querynode-view.ts';
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

/** The meta of a segment whose placement key is `key` (channel/partition/start). */
const metaOf = (key: string) => meta({ channel: Number(key.split('/')[0]), startPosition: BigInt(key.split('/')[2]) });

describe('segment assignment over a view', () => {
  it('gives every key exactly one owner, and every node a share', () => {
    const shares = new Map<string, number>();
    for (const key of keys) {
      const owner = ownerOf(key, view)!;
      assert.ok(view.includes(owner), `owner ${owner} of ${key} is in the view`);
      const scopes = view.map((self) => viewScope({ view }, self));
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

  it('serves every key exactly once for each replica number, by one of its holders', () => {
    for (const replicas of [1, 2, 3])
      for (const replica of [0, 1, 2, 5]) {
        const scopes = view.map((self) => ({ self, scope: viewScope({ view, replicas, replica }, self) }));
        for (const key of keys.slice(0, 300)) {
          const serving = scopes.filter(({ scope }) => scope(metaOf(key))).map(({ self }) => self);
          assert.equal(serving.length, 1, `R=${replicas} replica ${replica}: exactly one node serves ${key}`);
          assert.ok(holdersOf(key, view, replicas).includes(serving[0]), `R=${replicas} replica ${replica}: ${serving[0]} holds ${key}`);
        }
      }
  });

  it("serves a failed node's keys from their other holder while the fleet still names it", () => {
    const survivors = view.filter((id) => id !== 'qn-c');
    for (const replica of [0, 1]) {
      const placement = { view: survivors, fleet: view, replicas: 2, replica };
      const scopes = survivors.map((self) => ({ self, scope: viewScope(placement, self) }));
      for (const key of keys.slice(0, 400)) {
        const serving = scopes.filter(({ scope }) => scope(metaOf(key))).map(({ self }) => self);
        assert.equal(serving.length, 1, `replica ${replica}: exactly one survivor serves ${key}`);
        assert.ok(holdersOf(key, view, 2).includes(serving[0]), `replica ${replica}: ${key} is served by ${serving[0]}, which already holds it`);
      }
    }
    assert.equal(servingNode('k', { view: ['qn-a'], fleet: ['qn-b', 'qn-c', 'qn-a'], replicas: 1 }), 'qn-a', 'with no holder left in the view, the view serves it');
  });

  it('spreads a key over distinct holders, the first being its owner, and keeps holders when another node leaves', () => {
    const smaller = view.filter((id) => id !== 'qn-c');
    for (const key of keys.slice(0, 400)) {
      const holders = holdersOf(key, view, 2);
      assert.equal(new Set(holders).size, 2, `${key} has two distinct holders`);
      assert.equal(holders[0], ownerOf(key, view), `${key}'s first holder is its owner`);
      assert.equal(servingNode(key, { view, replicas: 2, replica: 1 }), holders[1], `replica 1 of ${key} is its second holder`);
      if (!holders.includes('qn-c')) assert.deepEqual(holdersOf(key, smaller, 2), holders, `${key} keeps its holders when qn-c leaves`);
      else assert.ok(holdersOf(key, smaller, 2).includes(holders.find((h) => h !== 'qn-c')!), `${key}'s surviving holder still holds it`);
    }
    const loads = new Map<string, number>();
    for (const key of keys) for (const h of holdersOf(key, view, 2)) loads.set(h, (loads.get(h) ?? 0) + 1);
    for (const id of view) assert.ok((loads.get(id) ?? 0) > (keys.length * 2) / view.length / 1.5, `${id} holds ${loads.get(id)} of ${keys.length * 2} copies`);
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
