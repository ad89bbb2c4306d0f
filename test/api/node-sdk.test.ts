/**
 * The official Node SDK's REST client (`HttpClient` of @zilliz/milvus2-sdk-node 2.5.12) against a
 * Migrans server, unchanged: the reference §7 example flow, with the SDK's default
 * `acceptInt64: false` (Int64 as strings) and with `acceptInt64: true`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '@zilliz/milvus2-sdk-node';
import { startTestServer, type TestServer } from './support.ts';

const TOKEN = 'root:Milvus';

for (const acceptInt64 of [false, true]) {
  describe(`Node SDK HttpClient (acceptInt64: ${acceptInt64})`, () => {
    let s: TestServer;
    let client: HttpClient;
    const collectionName = `demo_rest_v2_${acceptInt64 ? 'num' : 'str'}`;
    const dim = 4;
    const vec = (i: number) => [Math.cos(i), Math.sin(i), (i % 3) / 3, 1];
    const id = (n: number) => (acceptInt64 ? n : String(n));

    before(async () => {
      s = await startTestServer({ token: TOKEN });
      client = new HttpClient({ endpoint: s.url, token: TOKEN, timeout: 10000, ...(acceptInt64 ? { acceptInt64 } : {}) });
    });
    after(async () => s.close());

    it('runs the §7 example flow', async () => {
      const created = await client.createCollection({ collectionName, dimension: dim, metricType: 'COSINE' });
      assert.equal(created.code, 0, JSON.stringify(created));
      assert.equal((await client.hasCollection({ collectionName, dbName: 'default' })).data.has, true);
      assert.ok((await client.listCollections()).data.includes(collectionName));
      const described = await client.describeCollection({ collectionName });
      assert.equal(described.code, 0, JSON.stringify(described));
      assert.equal(described.data.collectionName, collectionName);

      const data = Array.from({ length: 10 }, (_, i) => ({ id: i, vector: vec(i), color: i % 2 ? 'red' : 'blue' }));
      const inserted = await client.insert({ collectionName, data });
      assert.equal(inserted.code, 0, JSON.stringify(inserted));
      assert.equal(inserted.data.insertCount, 10);
      assert.deepEqual(
        inserted.data.insertIds,
        data.map((r) => id(r.id)),
      );

      const found = await client.search({
        collectionName,
        data: [vec(3)],
        annsField: 'vector',
        limit: 3,
        outputFields: ['id', 'color'],
        consistencyLevel: 'Strong',
      });
      assert.equal(found.code, 0, JSON.stringify(found));
      assert.deepEqual(found.topks, [3]);
      const hits = found.data as Record<string, unknown>[];
      assert.equal(hits.length, 3);
      assert.deepEqual({ id: hits[0]!.id, color: hits[0]!.color }, { id: id(3), color: 'red' });
      assert.equal(typeof hits[0]!.distance, 'number');

      const two = await client.search({ collectionName, data: [vec(1), vec(2)], limit: 2, outputFields: [], consistencyLevel: 'Strong' });
      assert.equal(two.code, 0, JSON.stringify(two));
      assert.deepEqual(two.topks, [2, 2]);
      const groups = two.data as Record<string, unknown>[][];
      assert.equal(groups.length, 2, 'the SDK splits flat data by topks');
      assert.deepEqual([groups[0]![0]!.id, groups[1]![0]!.id], [id(1), id(2)]);

      const queried = await client.query({ collectionName, filter: 'id in [1, 2, 3]', outputFields: ['id', 'color'], limit: 10, consistencyLevel: 'Strong' });
      assert.equal(queried.code, 0, JSON.stringify(queried));
      assert.deepEqual(
        queried.data.map((r) => [r.id, r.color]).sort((a, b) => Number(a[0]) - Number(b[0])),
        [
          [id(1), 'red'],
          [id(2), 'blue'],
          [id(3), 'red'],
        ],
      );

      const got = await client.get({ collectionName, id: [4], outputFields: ['id'] });
      assert.equal(got.code, 0, JSON.stringify(got));
      assert.deepEqual(got.data, [{ id: id(4) }]);

      const deleted = await client.delete({ collectionName, filter: 'color == "red"' });
      assert.equal(deleted.code, 0, JSON.stringify(deleted));
      assert.deepEqual(deleted.data, { deleteCount: 5 });

      const left = await client.query({ collectionName, filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' });
      assert.equal(left.code, 0, JSON.stringify(left));
      assert.deepEqual(left.data, [{ 'count(*)': id(5) }]);

      const dropped = await client.dropCollection({ collectionName });
      assert.equal(dropped.code, 0, JSON.stringify(dropped));
      assert.equal((await client.hasCollection({ collectionName, dbName: 'default' })).data.has, false);
    });

    it('gets Milvus error envelopes back as values, not exceptions', async () => {
      const r = await client.describeCollection({ collectionName: 'does_not_exist' });
      assert.equal(r.code, 100);
      assert.match(String((r as unknown as { message: string }).message), /can't find collection/);
    });
  });
}
