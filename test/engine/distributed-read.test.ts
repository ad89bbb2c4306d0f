/**
 * A distributed read over in-process shards on memory gives the single-node answer: 3 shards
 * split the segments by rendezvous under the view, every message goes through the shard
 * protocol's encoding, search and query materialize only the global page (the fetched rows are
 * counted), and a shard that leaves the view hands its segments to the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { viewScope } from '../../lib/aws/querynode-view.ts';
import type { Database } from '../../lib/engine/database.ts';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { ShardUnavailableError, type ShardClient } from '../../lib/engine/ports/shard-client.ts';
import { distributedDatabase } from '../../lib/engine/read/distributed-read.ts';
import { localShardClient } from '../../lib/engine/read/local-shard-client.ts';
import {
  decodeIndexes,
  decodeQueryResponse,
  decodeRows,
  decodeSearchResponse,
  decodeShardRequest,
  decodeStats,
  encodeShardMessage,
  type ShardRequest,
} from '../../lib/engine/read/shard-protocol.ts';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';

const D = 'default';
const vec = (i: number) => [Math.sin(i), Math.cos(i * 0.7), Math.sin(i * 3), 1 + (i % 5)];

/** A shard over `db` whose messages cross the wire encoding, counting the rows it fetches. */
function wiredShard(id: string, db: Database, counter: { rows: number }, down?: () => boolean): ShardClient {
  const local = localShardClient(id, db, (placement) => viewScope(placement, id));
  /** `op` of the local shard, its request and answer through the wire encoding. */
  const wired =
    <R extends ShardRequest, A>(op: (r: R) => Promise<A>, decode: (text: string) => A) =>
    async (r: R): Promise<A> => {
      if (down?.()) throw new ShardUnavailableError(id, 'connection refused');
      return decode(encodeShardMessage((await op(decodeShardRequest(encodeShardMessage(r)) as R)) as never));
    };
  const fetch = wired(local.fetch, decodeRows);
  return {
    id,
    search: wired(local.search, decodeSearchResponse),
    query: wired(local.query, decodeQueryResponse),
    async fetch(r) {
      const rows = await fetch(r);
      counter.rows += rows.rows.length;
      return rows;
    },
    stats: wired(local.stats, decodeStats),
    indexes: wired(local.indexes, decodeIndexes),
  };
}

describe('distributed read over shard clients', () => {
  let db: EngineDatabase;
  let cleanup: () => Promise<void>;
  const counter = { rows: 0 };
  let downB = false;
  let dist: Database;
  before(async () => {
    ({ db, cleanup } = await memoryDatabase({ sealRows: 40 }));
    await db.createCollection(D, simpleSpec('c', 4, { metric: 'L2', extraFields: [{ name: 'tag', dataType: 'VarChar', maxLength: 16, typeParams: { max_length: '16' } }] }));
    const rows = Array.from({ length: 400 }, (_, i) => ({ id: i, vector: vec(i), tag: `t${i}` }));
    await db.insert(D, 'c', rows, { upsert: false });
    const shards = [wiredShard('a', db, counter), wiredShard('b', db, counter, () => downB), wiredShard('c', db, counter)];
    let live = shards;
    dist = distributedDatabase(db, { shards: async () => live, lost: (s) => (live = live.filter((x) => x.id !== s.id)) }, 64);
  });
  after(() => cleanup());

  it('search with output fields fetches exactly the global page and equals the single-node search', async () => {
    counter.rows = 0;
    const request = { vectors: [Float32Array.from(vec(7)), Float32Array.from(vec(123))], limit: 10, offset: 3, outputFields: ['tag', 'vector'] };
    const got = await dist.search(D, 'c', request);
    assert.equal(counter.rows, 20, 'two query vectors, 10 rows each');
    assert.deepEqual(got, await db.search(D, 'c', request));
  });

  it('search without output fields fetches nothing', async () => {
    counter.rows = 0;
    const request = { vectors: [Float32Array.from(vec(50))], limit: 10 };
    assert.deepEqual(await dist.search(D, 'c', request), await db.search(D, 'c', request));
    assert.equal(counter.rows, 0);
  });

  it('query pages in primary-key order, fetching the page only; count and get agree', async () => {
    counter.rows = 0;
    const request = { filter: 'id >= 100', limit: 25, offset: 10, outputFields: ['tag'] };
    assert.deepEqual(await dist.query(D, 'c', request), await db.query(D, 'c', request));
    assert.equal(counter.rows, 25);
    assert.deepEqual(await dist.query(D, 'c', { filter: 'id < 300', outputFields: ['count(*)'] }), [{ 'count(*)': 300 }]);
    const ids = [399n, 5n, 17n, 1000n];
    assert.deepEqual(await dist.get(D, 'c', ids, {}), await db.get(D, 'c', ids, {}));
  });

  it('plans once: a bad request is refused before any shard is asked', async () => {
    await assert.rejects(dist.search(D, 'c', { vectors: [new Float32Array(3)], limit: 5 }), /dimension: 4/);
  });

  it('collection and partition stats and index progress sum the shares to the single-node figures', async () => {
    assert.deepEqual(await dist.getCollectionStats(D, 'c'), await db.getCollectionStats(D, 'c'));
    assert.deepEqual(await dist.getPartitionStats(D, 'c', '_default'), { rowCount: 400 });
    await assert.rejects(dist.getPartitionStats(D, 'c', 'nope'), /partition not found/);
    const [one] = await db.describeIndex(D, 'c', '');
    const [all] = await dist.describeIndex(D, 'c', '');
    assert.deepEqual(all, one, 'totals, indexed rows and state equal the one node that holds every segment');
    await assert.rejects(dist.describeIndex(D, 'c', 'nope'), /index not found/);
  });

  it('a delete by filter removes exactly the rows the shares match', async () => {
    const before = await db.getCollectionStats(D, 'c');
    const res = await dist.delete(D, 'c', 'id >= 390 and tag != "t391"', {});
    assert.equal(res.deleteCount, 9);
    assert.deepEqual(
      await dist.query(D, 'c', { filter: 'id >= 385', consistencyLevel: 'Strong', outputFields: [] }),
      [385n, 386n, 387n, 388n, 389n, 391n].map((id) => ({ id })),
    );
    assert.deepEqual(await dist.getCollectionStats(D, 'c'), { rowCount: before.rowCount - 9 });
    assert.equal((await dist.delete(D, 'c', 'id in [385, 386]', {})).deleteCount, 2, 'a delete by keys needs no read');
    await assert.rejects(dist.delete(D, 'c', 'tag ==', {}), /cannot parse|syntax|invalid/i);
  });

  it('every replica number a read picks serves each segment once: answers equal the single node', async () => {
    let replica = 0;
    const shards = [wiredShard('a', db, counter), wiredShard('b', db, counter), wiredShard('c', db, counter)];
    const spread = distributedDatabase(db, { shards: async () => shards, replicas: 2, replica: () => replica }, 64);
    const search = { vectors: [Float32Array.from(vec(11))], limit: 10, outputFields: ['tag'] };
    const query = { filter: 'id < 350', limit: 400, outputFields: ['tag'] };
    for (replica of [0, 1, 2, 7]) {
      assert.deepEqual(await spread.search(D, 'c', search), await db.search(D, 'c', search), `search, replica ${replica}`);
      assert.deepEqual(await spread.query(D, 'c', query), await db.query(D, 'c', query), `query, replica ${replica}`);
      assert.deepEqual(await spread.getCollectionStats(D, 'c'), await db.getCollectionStats(D, 'c'), `stats, replica ${replica}`);
    }
  });

  it('refuses a shard request whose replica number is not a small non-negative integer, or whose fleet or replicas are malformed', () => {
    const target = { kind: 'stats', db: D, collection: 'c', view: ['a'] };
    for (const replica of [-1, 1.5, '1', 65]) assert.throws(() => decodeShardRequest(JSON.stringify({ ...target, replica })), /malformed shard message: replica/);
    assert.equal(decodeShardRequest(JSON.stringify({ ...target, replica: 3 })).replica, 3);
    assert.throws(() => decodeShardRequest(JSON.stringify({ ...target, replicas: 0 })), /malformed shard message: replicas/);
    assert.throws(() => decodeShardRequest(JSON.stringify({ ...target, fleet: 'a' })), /malformed shard message: fleet/);
  });

  it('a shard that fails leaves the view and the read reruns on the rest', async () => {
    downB = true;
    const request = { vectors: [Float32Array.from(vec(9))], limit: 10, outputFields: ['tag'] };
    assert.deepEqual(await dist.search(D, 'c', request), await db.search(D, 'c', request));
    assert.deepEqual(await dist.query(D, 'c', { filter: '', limit: 400, outputFields: ['tag'] }), await db.query(D, 'c', { filter: '', limit: 400, outputFields: ['tag'] }));
  });
});
