/** entities/* over HTTP against the embedded engine: writes, reads, search, errors and encodings. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fails, ok, startTestServer, uniqueName, vector, type TestServer } from './support.ts';

const DIM = 8;

describe('entities', () => {
  let s: TestServer;
  let quick: string;
  before(async () => {
    s = await startTestServer();
    quick = uniqueName('ent');
    ok(await s.post('collections/create', { collectionName: quick, dimension: DIM, metricType: 'L2', params: { consistencyLevel: 'Strong' } }));
    const data = Array.from({ length: 20 }, (_, i) => ({ id: i, vector: vector(DIM, i), color: i % 2 ? 'red' : 'blue', n: i }));
    const r = ok(await s.post('entities/insert', { collectionName: quick, data }));
    assert.equal(r.cost, 0);
    assert.equal(r.data.insertCount, 20);
    assert.deepEqual(
      r.data.insertIds,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.match(r.sessionToken, /^\d+$/);
  });
  after(async () => s.close());

  it('queries with filters, limits, offsets and dynamic fields', async () => {
    const r = ok(await s.post('entities/query', { collectionName: quick, filter: 'id in [1, 2, 3]', outputFields: ['id', 'color'] }));
    assert.equal(r.cost, 0);
    assert.deepEqual(r.data.map((x: any) => x.id).sort(), [1, 2, 3]);
    assert.deepEqual(
      r.data.find((x: any) => x.id === 1),
      { id: 1, color: 'red' },
    );
    const limited = ok(await s.post('entities/query', { collectionName: quick, filter: 'id >= 0', limit: 5, offset: 2 }));
    assert.equal(limited.data.length, 5);
    const all = ok(await s.post('entities/query', { collectionName: quick, filter: 'color == "red"' }));
    assert.equal(all.data.length, 10);
    assert.ok('vector' in all.data[0] && Array.isArray(all.data[0].vector) && all.data[0].vector.length === DIM, 'outputFields default ["*"]');
    const dyn = ok(await s.post('entities/query', { collectionName: quick, filter: '$meta["n"] > 17', outputFields: ['n'] }));
    assert.deepEqual(dyn.data.map((x: any) => x.n).sort(), [18, 19]);
  });

  it('counts with count(*)', async () => {
    assert.deepEqual(ok(await s.post('entities/query', { collectionName: quick, filter: '', outputFields: ['count(*)'] })).data, [{ 'count(*)': 20 }]);
    assert.deepEqual(ok(await s.post('entities/query', { collectionName: quick, filter: 'id < 5', outputFields: ['count(*)'] })).data, [{ 'count(*)': 5 }]);
  });

  it('validates query windows and filters', async () => {
    fails(await s.post('entities/query', { collectionName: quick, filter: '', limit: 0 }), 1100, 'empty expression should be used with limit: invalid parameter');
    fails(await s.post('entities/query', { collectionName: quick, filter: 'id > 0', limit: 16385 }), 65535);
    fails(await s.post('entities/query', { collectionName: quick, filter: 'id > 0', offset: -1 }), 65535);
    fails(await s.post('entities/query', { collectionName: quick, filter: 'id >>> 3' }), 1100);
    fails(await s.post('entities/query', { collectionName: quick, filter: 'id > 0', limit: '10' }), 1801);
    fails(await s.post('entities/query', { collectionName: quick, filter: 'id > 0', consistencyLevel: 'strong' }), 1100, /consistencyLevel can only be/);
  });

  it('gets by id (scalar, array, numeric strings) and rejects bad ids with 1806', async () => {
    const one = ok(await s.post('entities/get', { collectionName: quick, id: 4, outputFields: ['id', 'color'] }));
    assert.deepEqual(one.data, [{ id: 4, color: 'blue' }]);
    const many = ok(await s.post('entities/get', { collectionName: quick, id: [5, '6', 999] }));
    assert.deepEqual(many.data.map((x: any) => x.id).sort(), [5, 6]);
    fails(await s.post('entities/get', { collectionName: quick, id: [{ a: 1 }] }), 1806);
    fails(await s.post('entities/get', { collectionName: quick, id: 'abc' }), 1806);
    fails(await s.post('entities/get', { collectionName: quick }), 1802);
  });

  it('searches with one and several query vectors (flat data + topks)', async () => {
    const r = ok(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 3)], limit: 3, outputFields: ['color'] }));
    assert.deepEqual(r.topks, [3]);
    assert.equal(r.data.length, 3);
    assert.deepEqual(Object.keys(r.data[0]), ['id', 'distance', 'color']);
    assert.equal(r.data[0].id, 3);
    assert.ok(r.data[0].distance <= r.data[1].distance, 'L2 ascending');
    const multi = ok(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 1), vector(DIM, 2)], limit: 2 }));
    assert.deepEqual(multi.topks, [2, 2]);
    assert.deepEqual(
      multi.data.map((x: any) => x.id).filter((_: unknown, i: number) => i % 2 === 0),
      [1, 2],
    );
    assert.deepEqual(Object.keys(multi.data[0]), ['id', 'distance'], 'no outputFields: pk + distance only');
    const none = ok(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 3), vector(DIM, 4)], filter: 'color == "green"', limit: 3 }));
    assert.deepEqual(none.data, []);
    assert.deepEqual(none.topks, [0, 0], 'topks even without hits, so the Node SDK can split the result');
    const filtered = ok(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 3)], filter: 'color == "blue"', limit: 20, annsField: 'vector' }));
    assert.equal(filtered.data.length, 10);
    assert.ok(filtered.data.every((x: any) => x.id % 2 === 0));
  });

  it('validates search input', async () => {
    fails(await s.post('entities/search', { collectionName: quick, data: [[1, 2, 3]] }), 1801, /dimension: 8, but length of \[\]float: 3/);
    fails(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 1)], limit: 0 }), 65535);
    fails(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 1)], limit: 16385 }), 65535);
    fails(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 1)], annsField: 'nope' }), 1801, /cannot find a vector field named: nope/);
    fails(await s.post('entities/search', { collectionName: quick, data: [vector(DIM, 1)], filter: 'color ==' }), 1100);
    fails(await s.post('entities/search', { collectionName: quick }), 1802);
  });

  it('rejects bad rows with 1804 and writes nothing', async () => {
    const before = ok(await s.post('entities/query', { collectionName: quick, filter: '', outputFields: ['count(*)'] })).data[0]['count(*)'];
    fails(
      await s.post('entities/insert', {
        collectionName: quick,
        data: [
          { id: 100, vector: vector(DIM, 0) },
          { id: 101, vector: [1, 2] },
        ],
      }),
      1804,
      /row 1, field vector: dimension mismatch/,
    );
    fails(await s.post('entities/insert', { collectionName: quick, data: [{ id: 'x', vector: vector(DIM, 0) }] }), 1804, /field id/);
    fails(await s.post('entities/insert', { collectionName: quick, data: [{ vector: vector(DIM, 0) }] }), 1804, /field id/);
    fails(await s.post('entities/insert', { collectionName: quick, data: [] }), 1804);
    fails(await s.post('entities/insert', { collectionName: quick }), 1802);
    const after = ok(await s.post('entities/query', { collectionName: quick, filter: '', outputFields: ['count(*)'] })).data[0]['count(*)'];
    assert.equal(after, before);
  });

  it('deletes by filter (filter required) and returns a session token', async () => {
    const name = uniqueName('del');
    ok(await s.post('collections/create', { collectionName: name, dimension: 2, params: { consistencyLevel: 'Strong' } }));
    ok(await s.post('entities/insert', { collectionName: name, data: Array.from({ length: 6 }, (_, i) => ({ id: i, vector: [i, 1] })) }));
    fails(await s.post('entities/delete', { collectionName: name }), 1802, /CollectionFilterReq.Filter/);
    const r = ok(await s.post('entities/delete', { collectionName: name, filter: 'id in [0, 1, 2]' }));
    assert.deepEqual(r.data, { deleteCount: 3 });
    assert.match(r.sessionToken, /^\d+$/);
    assert.equal(r.cost, undefined, '2.5 delete has no cost');
    const left = ok(await s.post('entities/query', { collectionName: name, filter: 'id >= 0', consistencyLevel: 'Session', sessionToken: r.sessionToken }));
    assert.deepEqual(left.data.map((x: any) => x.id).sort(), [3, 4, 5]);
  });

  it('upserts, and an insert of an existing key overwrites it (one live row per key)', async () => {
    const name = uniqueName('ups');
    ok(await s.post('collections/create', { collectionName: name, dimension: 2, params: { consistencyLevel: 'Strong' } }));
    ok(await s.post('entities/insert', { collectionName: name, data: [{ id: 1, vector: [1, 0], tag: 'a' }] }));
    const u = ok(
      await s.post('entities/upsert', {
        collectionName: name,
        data: [
          { id: 1, vector: [0, 1], tag: 'b' },
          { id: 2, vector: [1, 1], tag: 'c' },
        ],
      }),
    );
    assert.deepEqual(u.data, { upsertCount: 2, upsertIds: [1, 2] });
    ok(
      await s.post('entities/insert', {
        collectionName: name,
        data: [
          { id: 2, vector: [1, 1], tag: 'd' },
          { id: 2, vector: [1, 1], tag: 'e' },
        ],
      }),
    );
    const rows = ok(await s.post('entities/query', { collectionName: name, filter: 'id >= 0', outputFields: ['id', 'tag'] })).data;
    assert.deepEqual(
      rows.sort((x: any, y: any) => x.id - y.id),
      [
        { id: 1, tag: 'b' },
        { id: 2, tag: 'e' },
      ],
    );
    assert.deepEqual(ok(await s.post('entities/query', { collectionName: name, filter: '', outputFields: ['count(*)'] })).data, [{ 'count(*)': 2 }]);
  });

  it('returns Int64 as strings with Accept-Type-Allow-Int64: false', async () => {
    const name = uniqueName('i64');
    ok(
      await s.post('collections/create', {
        collectionName: name,
        schema: {
          fields: [
            { fieldName: 'pk', dataType: 'Int64', isPrimary: true },
            { fieldName: 'big', dataType: 'Int64' },
            { fieldName: 'arr', dataType: 'Array', elementDataType: 'Int64', elementTypeParams: { max_capacity: 4 } },
            { fieldName: 'v', dataType: 'FloatVector', elementTypeParams: { dim: 2 } },
          ],
        },
        indexParams: [{ fieldName: 'v', metricType: 'IP' }],
        params: { consistencyLevel: 'Strong' },
      }),
    );
    const headers = { 'Accept-Type-Allow-Int64': 'false' };
    const ins = ok(
      await s.post(
        'entities/insert',
        '{"collectionName":"' + name + '","data":[{"pk":9223372036854775807,"big":"-9223372036854775808","arr":[1,9007199254740993],"v":[1,0]}]}',
        headers,
      ),
    );
    assert.deepEqual(ins.data.insertIds, ['9223372036854775807']);
    const q = await s.post('entities/query', { collectionName: name, filter: 'pk > 0' }, headers);
    assert.equal(q.body.code, 0, q.text);
    assert.match(q.text, /"pk":"9223372036854775807"/);
    assert.match(q.text, /"big":"-9223372036854775808"/);
    assert.match(q.text, /"arr":\["1","9007199254740993"\]/);
    const qn = await s.post('entities/query', { collectionName: name, filter: 'pk > 0' });
    assert.match(qn.text, /"pk":9223372036854775807/);
    const sr = await s.post('entities/search', { collectionName: name, data: [[1, 0]], outputFields: ['big'] }, headers);
    assert.match(sr.text, /"pk":"9223372036854775807","distance":1,"big":"-9223372036854775808"/);
    const cnt = ok(await s.post('entities/query', { collectionName: name, filter: '', outputFields: ['count(*)'] }, headers));
    assert.deepEqual(cnt.data, [{ 'count(*)': '1' }]);
  });

  it('serves VarChar primary keys, JSON and nullable fields', async () => {
    const name = uniqueName('vc');
    ok(
      await s.post('collections/create', {
        collectionName: name,
        schema: {
          enableDynamicField: false,
          fields: [
            { fieldName: 'key', dataType: 'VarChar', isPrimary: true, elementTypeParams: { max_length: 16 } },
            { fieldName: 'meta', dataType: 'JSON', nullable: true },
            { fieldName: 'score', dataType: 'Float', defaultValue: 0.5 },
            { fieldName: 'v', dataType: 'FloatVector', elementTypeParams: { dim: 2 } },
          ],
        },
        indexParams: [{ fieldName: 'v', indexType: 'FLAT', metricType: 'COSINE' }],
        params: { consistencyLevel: 'Strong' },
      }),
    );
    const ins = ok(
      await s.post('entities/insert', {
        collectionName: name,
        data: [
          { key: 'a', meta: { tags: ['x'] }, score: 0.1, v: [1, 0] },
          { key: 'b', v: [0, 1] },
        ],
      }),
    );
    assert.deepEqual(ins.data.insertIds, ['a', 'b']);
    const got = ok(await s.post('entities/get', { collectionName: name, id: ['a', 'b'], outputFields: ['key', 'meta', 'score'] })).data;
    const byKey = Object.fromEntries(got.map((r: any) => [r.key, r]));
    assert.deepEqual(byKey.a, { key: 'a', meta: '{"tags":["x"]}', score: 0.1 });
    assert.deepEqual(byKey.b, { key: 'b', meta: null, score: 0.5 });
    fails(await s.post('entities/insert', { collectionName: name, data: [{ key: 'c', v: [1, 1], extra: 1 }] }), 1804, /has pass more field without dynamic schema/);
    fails(await s.post('entities/insert', { collectionName: name, data: [{ key: 'x'.repeat(17), v: [1, 1] }] }), 1804, /exceeds max_length \(16\)/);
    const hit = ok(await s.post('entities/search', { collectionName: name, data: [[1, 0]], limit: 1 }));
    assert.deepEqual(hit.data, [{ key: 'a', distance: 1 }]);
  });

  it('rejects a pk with autoID on insert and assigns ids', async () => {
    const name = uniqueName('auto');
    ok(await s.post('collections/create', { collectionName: name, dimension: 2, autoID: true, params: { consistencyLevel: 'Strong' } }));
    fails(
      await s.post('entities/insert', { collectionName: name, data: [{ id: 1, vector: [1, 0] }] }),
      1804,
      'fail to deal the insert data, error: no need to pass pk field(id) when autoid==true in insert: invalid parameter',
    );
    // Assigned ids exceed 2^53 (timestamp-based, as Milvus's): read them as strings to compare exactly.
    const r = ok(await s.post('entities/insert', { collectionName: name, data: [{ vector: [1, 0] }, { vector: [0, 1] }] }, { 'Accept-Type-Allow-Int64': 'false' }));
    assert.equal(r.data.insertCount, 2);
    assert.equal(new Set(r.data.insertIds).size, 2);
    assert.ok(r.data.insertIds.every((id: unknown) => typeof id === 'string' && /^\d+$/.test(id)));
  });

  it('reads struct keys case-insensitively, but data and id case-sensitively', async () => {
    const r = ok(await s.post('entities/query', { COLLECTIONNAME: quick, Filter: 'id == 2', OutputFields: ['id'] }));
    assert.deepEqual(r.data, [{ id: 2 }]);
    fails(await s.post('entities/insert', { collectionName: quick, Data: [{ id: 1, vector: vector(DIM, 1) }] }), 1802);
  });

  it('searches collections with two vector fields, including hybrid_search (rrf and weighted)', async () => {
    const name = uniqueName('hyb');
    ok(
      await s.post('collections/create', {
        collectionName: name,
        schema: {
          fields: [
            { fieldName: 'id', dataType: 'Int64', isPrimary: true },
            { fieldName: 'title', dataType: 'VarChar', elementTypeParams: { max_length: 32 } },
            { fieldName: 'a', dataType: 'FloatVector', elementTypeParams: { dim: 2 } },
            { fieldName: 'b', dataType: 'FloatVector', elementTypeParams: { dim: 2 } },
          ],
        },
        indexParams: [
          { fieldName: 'a', metricType: 'COSINE' },
          { fieldName: 'b', metricType: 'L2', indexType: 'FLAT' },
        ],
        params: { consistencyLevel: 'Strong' },
      }),
    );
    ok(
      await s.post('entities/insert', {
        collectionName: name,
        data: [
          { id: 1, title: 'one', a: [1, 0], b: [0, 0] },
          { id: 2, title: 'two', a: [0, 1], b: [5, 5] },
          { id: 3, title: 'three', a: [1, 1], b: [1, 1] },
        ],
      }),
    );
    fails(await s.post('entities/search', { collectionName: name, data: [[1, 0]] }), 1801, /search without annsField, but already found multiple vector fields: \[a, b/);
    assert.equal(ok(await s.post('entities/search', { collectionName: name, data: [[0, 0]], annsField: 'b', limit: 1 })).data[0].id, 1);

    const rrf = ok(
      await s.post('entities/hybrid_search', {
        collectionName: name,
        limit: 2,
        outputFields: ['title'],
        search: [
          { data: [[1, 0]], annsField: 'a', limit: 3 },
          { data: [[0, 0]], annsField: 'b', limit: 3 },
        ],
        rerank: { strategy: 'rrf', params: { k: 10 } },
      }),
    );
    assert.deepEqual(rrf.topks, [2]);
    assert.deepEqual(rrf.data[0], { id: 1, distance: rrf.data[0].distance, title: 'one' });
    assert.ok(Math.abs(rrf.data[0].distance - 2 / 11) < 1e-6, `rrf score ${rrf.data[0].distance}`);
    const weighted = ok(
      await s.post('entities/advanced_search', {
        collectionName: name,
        limit: 3,
        search: [
          { data: [[0, 1]], annsField: 'a', limit: 3 },
          { data: [[0, 0]], annsField: 'b', limit: 3 },
        ],
        rerank: { strategy: 'weighted', params: { weights: [1, 0] } },
      }),
    );
    assert.equal(weighted.data[0].id, 2, 'weight 1 on field a, whose best match for [0,1] is id 2');
    fails(
      await s.post('entities/hybrid_search', {
        collectionName: name,
        search: [{ data: [[1, 0]], annsField: 'a' }],
        rerank: { strategy: 'weighted', params: { weights: [0.5, 0.5] } },
      }),
      1100,
      /weights/,
    );
  });

  it('reports unknown fields in filters', async () => {
    const name = uniqueName('nodyn');
    ok(await s.post('collections/create', { collectionName: name, dimension: 2, params: { enableDynamicField: false, consistencyLevel: 'Strong' } }));
    fails(await s.post('entities/insert', { collectionName: name, data: [{ id: 1, vector: [1, 0], color: 'red' }] }), 1804, /has pass more field without dynamic schema/);
    const r = await s.post('entities/query', { collectionName: name, filter: 'color == "red"' });
    assert.notEqual(r.body.code, 0, r.text);
  });
});
