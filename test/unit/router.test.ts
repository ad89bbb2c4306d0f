/** The REST router against a stub Database: transport, parsing, envelopes and encoding, no engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Database, Row } from '../../lib/engine/database.ts';
import { collectionNotFound } from '../../lib/engine/errors.ts';
import type { CollectionInfo } from '../../lib/engine/schema/types.ts';
import { MemoryLogger } from '../../lib/adapters/memory/memory-logger.ts';
import { handleRequest } from '../../lib/api/router.ts';
import type { ApiResponse } from '../../lib/api/types.ts';
import { field } from '../support/data.ts';

const info: CollectionInfo & { loadState: 'LoadStateLoaded' } = {
  collectionId: 42,
  name: 'c',
  dbName: 'default',
  description: '',
  shardsNum: 1,
  consistencyLevel: 'Bounded',
  partitions: ['_default'],
  aliases: [],
  properties: {},
  loaded: true,
  createdTs: 1n,
  loadState: 'LoadStateLoaded',
  indexes: [{ indexName: 'v', fieldName: 'v', indexType: 'AUTOINDEX', metricType: 'COSINE', M: 18, efConstruction: 240, quantization: 'f32', params: {} }],
  schema: {
    enableDynamicField: true,
    fields: [
      field(100, 'id', 'Int64', { isPrimary: true }),
      field(101, 'v', 'FloatVector', { dim: 2, typeParams: { dim: '2' } }),
      field(102, 'j', 'JSON'),
      field(103, 'f', 'Float'),
      field(104, 'a', 'Array', { elementType: 'Int64', maxCapacity: 4 }),
    ],
  },
};

/** A Database whose methods are the given stubs; anything else fails the test loudly. */
function stubDb(stubs: Partial<Record<keyof Database, (...args: any[]) => unknown>>): Database {
  return new Proxy({} as Database, {
    get(_t, prop: string) {
      const fn = (stubs as Record<string, unknown>)[prop];
      if (fn) return async (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args);
      return async () => {
        throw new Error(`stub Database: ${prop} not stubbed`);
      };
    },
  });
}

async function call(db: Database, path: string, body: string | object, headers: Record<string, string> = {}, method = 'POST', token?: string): Promise<ApiResponse> {
  return handleRequest(db, { method, path, headers, body: typeof body === 'string' ? body : JSON.stringify(body) }, { token });
}

function json(r: ApiResponse): any {
  return JSON.parse(r.body);
}

describe('router transport', () => {
  const db = stubDb({ listCollections: () => ['a', 'b'] });

  it('answers OPTIONS with 204 and CORS headers', async () => {
    const r = await call(db, '/anything', '', {}, 'OPTIONS');
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.body, '');
  });

  it('answers unknown paths and wrong methods with a gin 404', async () => {
    for (const [path, method] of [
      ['/v2/vectordb/nope', 'POST'],
      ['/v2/vectordb/collections/list', 'GET'],
    ] as const) {
      const r = await call(db, path, '{}', {}, method);
      assert.equal(r.status, 404);
      assert.equal(r.body, '404 page not found');
    }
  });

  it('parses any content type, null and query strings', async () => {
    const r = await call(db, '/v2/vectordb/collections/list?x=1', 'null', { 'Content-Type': 'text/plain;charset=UTF-8' });
    assert.deepEqual(json(r), { code: 0, data: ['a', 'b'] });
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  });

  it('rejects empty and malformed bodies with 1801', async () => {
    const empty = json(await call(db, '/v2/vectordb/collections/list', ''));
    assert.deepEqual(empty, { code: 1801, message: 'can only accept json format request, the request body should be nil, however {} is valid' });
    const bad = json(await call(db, '/v2/vectordb/collections/list', '{"dbName":'));
    assert.equal(bad.code, 1801);
    assert.match(bad.message, /^can only accept json format request, error: /);
    const arr = json(await call(db, '/v2/vectordb/collections/list', '[1]'));
    assert.equal(arr.code, 1801);
    assert.match(arr.message, /cannot unmarshal array into Go value of type DatabaseReq/);
  });

  it('enforces the token with 401/1800, accepting Bearer and Basic', async () => {
    const path = '/v2/vectordb/collections/list';
    const denied = await call(db, path, '{}', {}, 'POST', 's3cret');
    assert.equal(denied.status, 401);
    assert.deepEqual(json(denied), { code: 1800, message: "user hasn't authenticated" });
    assert.equal((await call(db, path, '{}', { authorization: 'Bearer wrong' }, 'POST', 's3cret')).status, 401);
    assert.equal((await call(db, path, '{}', { Authorization: 'Bearer s3cret' }, 'POST', 's3cret')).status, 200);
    const basic = `Basic ${Buffer.from('root:Milvus').toString('base64')}`;
    assert.equal((await call(db, path, '{}', { authorization: basic }, 'POST', 'root:Milvus')).status, 200);
    assert.equal((await call(db, path, '{}', { authorization: 'Bearer anything' })).status, 200, 'no token configured: no auth');
  });

  it('maps MilvusError to HTTP 200 and unexpected errors to 65535 without a stack', async () => {
    const failing = stubDb({
      hasCollection: () => {
        throw collectionNotFound('x');
      },
      dropCollection: () => {
        throw new Error('disk on fire');
      },
    });
    const nf = await call(failing, '/v2/vectordb/collections/has', { collectionName: 'x' });
    assert.equal(nf.status, 200);
    assert.deepEqual(json(nf), { code: 100, message: "can't find collection[database=default][collection=x]" });
    const logger = new MemoryLogger();
    const boom = await handleRequest(failing, { method: 'POST', path: '/v2/vectordb/collections/drop', headers: {}, body: '{"collectionName":"x"}' }, { logger });
    assert.equal(boom.status, 200);
    assert.deepEqual(json(boom), { code: 65535, message: 'unexpected error: disk on fire' });
    assert.equal(logger.entries.length, 1, 'the unexpected error is logged once');
    const [entry] = logger.entries;
    assert.equal(entry.level, 'error');
    assert.equal(entry.fields.path, '/v2/vectordb/collections/drop');
    const logged = entry.fields.error as { message: string; stack?: string };
    assert.equal(logged.message, 'disk on fire');
    assert.match(logged.stack ?? '', /disk on fire/, 'the log keeps the stack the answer leaves out');
  });
});

describe('router binding', () => {
  it('binds keys case-insensitively and reports missing/typed fields like gin', async () => {
    let seen: unknown[] = [];
    const db = stubDb({ hasCollection: (...a: unknown[]) => ((seen = a), true) });
    const r = json(await call(db, '/v2/vectordb/collections/has', { collectionname: 'c', DBNAME: 'default' }));
    assert.deepEqual(r, { code: 0, data: { has: true } });
    assert.deepEqual(seen, ['default', 'c']);
    const missing = json(await call(db, '/v2/vectordb/collections/has', {}));
    assert.deepEqual(missing, {
      code: 1802,
      message: "missing required parameters, error: Key: 'CollectionNameReq.CollectionName' Error:Field validation for 'CollectionName' failed on the 'required' tag",
    });
    const typed = json(await call(db, '/v2/vectordb/collections/has', { collectionName: 5 }));
    assert.equal(typed.code, 1801);
    assert.match(typed.message, /cannot unmarshal number 5 into Go struct field CollectionNameReq.collectionName of type string/);
  });

  it('takes the database from the DB-Name header when the body has none', async () => {
    let seen: unknown[] = [];
    const db = stubDb({ listCollections: (...a: unknown[]) => ((seen = a), []) });
    await call(db, '/v2/vectordb/collections/list', '{}', { 'DB-Name': 'other' });
    assert.deepEqual(seen, ['other']);
  });

  it('rejects a string limit with 1801 and validates query windows', async () => {
    const db = stubDb({ describeCollection: () => info, query: () => [] });
    const r = json(await call(db, '/v2/vectordb/entities/query', { collectionName: 'c', filter: 'id > 0', limit: '10' }));
    assert.equal(r.code, 1801);
    assert.match(r.message, /cannot unmarshal string into Go struct field QueryReqV2.limit of type int32/);
    assert.equal(json(await call(db, '/v2/vectordb/entities/query', { collectionName: 'c', filter: 'id > 0', limit: 16000, offset: 385 })).code, 65535);
    const empty = json(await call(db, '/v2/vectordb/entities/query', { collectionName: 'c', limit: 0 }));
    assert.deepEqual(empty, { code: 1100, message: 'empty expression should be used with limit: invalid parameter' });
  });
});

describe('router encoding', () => {
  it('returns insertIds as numbers, or strings with Accept-Type-Allow-Int64: false, plus sessionToken', async () => {
    const db = stubDb({ insert: () => ({ ids: [1n, 9223372036854775807n], sessionToken: 123456789012345678n }) });
    const body = '{"collectionName":"c","data":[{"id":1,"v":[1,2]},{"id":9223372036854775807,"v":[1,2]}]}';
    const asNumbers = await call(db, '/v2/vectordb/entities/insert', body);
    assert.equal(asNumbers.body, '{"code":0,"cost":0,"data":{"insertCount":2,"insertIds":[1,9223372036854775807]},"sessionToken":"123456789012345678"}');
    const asStrings = await call(db, '/v2/vectordb/entities/upsert', body, { 'accept-type-allow-int64': 'false' });
    assert.equal(asStrings.body, '{"code":0,"cost":0,"data":{"upsertCount":2,"upsertIds":["1","9223372036854775807"]},"sessionToken":"123456789012345678"}');
  });

  it('passes big integers in rows through exactly', async () => {
    let rows: unknown[] = [];
    const db = stubDb({ insert: (_d: string, _n: string, r: unknown[]) => ((rows = r), { ids: [], sessionToken: 1n }) });
    await call(db, '/v2/vectordb/entities/insert', '{"collectionName":"c","data":[{"id":9223372036854775807,"x":1.5}]}');
    assert.deepEqual(rows, [{ id: 9223372036854775807n, x: 1.5 }]);
  });

  it('encodes query rows: Int64, float32, JSON text, arrays, dynamic fields, count(*)', async () => {
    const row: Row = { id: 9007199254740993n, v: new Float32Array([0.1, 0.2]), j: { a: [1, 2] }, f: Math.fround(0.3), a: [1n, 2n], color: 'red', big: 9007199254740993n, n: null };
    let request: any;
    const db = stubDb({ describeCollection: () => info, query: (_d: string, _n: string, q: unknown) => ((request = q), [row]) });
    const r = await call(db, '/v2/vectordb/entities/query', { collectionName: 'c', filter: 'id > 0' });
    assert.equal(
      r.body,
      '{"code":0,"cost":0,"data":[{"id":9007199254740993,"v":[0.1,0.2],"j":"{\\"a\\":[1,2]}","f":0.3,"a":[1,2],"color":"red","big":9007199254740993,"n":null}]}',
    );
    assert.deepEqual(request.outputFields, ['*']);
    assert.equal(request.limit, 100);
    const s = await call(db, '/v2/vectordb/entities/query', { collectionName: 'c', filter: 'id > 0' }, { 'Accept-Type-Allow-Int64': 'false' });
    assert.match(s.body, /"id":"9007199254740993".*"a":\["1","2"\].*"big":9007199254740993/);

    const counting = stubDb({ describeCollection: () => info, query: (_d: string, _n: string, q: any) => ((request = q), [{ 'count(*)': 7n }]) });
    const c = await call(counting, '/v2/vectordb/entities/query', { collectionName: 'c', outputFields: ['count(*)'] });
    assert.equal(c.body, '{"code":0,"cost":0,"data":[{"count(*)":7}]}');
    assert.equal(request.limit, undefined);
  });

  it('flattens search hits with topks, pk and distance first; topks even when empty', async () => {
    let request: any;
    const hits: Row[][] = [
      [
        { distance: 0.9, id: 1n, color: 'a' },
        { id: 2n, distance: 0.5 },
      ],
      [{ id: 3n, distance: 0.25 }],
    ];
    const db = stubDb({ describeCollection: () => info, search: (_d: string, _n: string, q: unknown) => ((request = q), hits) });
    const r = await call(db, '/v2/vectordb/entities/search', {
      collectionName: 'c',
      data: [
        [1, 0],
        [0, 1],
      ],
      limit: 2,
      searchParams: { metricType: 'L2', params: { ef: 64, radius: 0.1 } },
      consistencyLevel: 'Session',
      sessionToken: '77',
    });
    assert.equal(r.body, '{"code":0,"cost":0,"data":[{"id":1,"distance":0.9,"color":"a"},{"id":2,"distance":0.5},{"id":3,"distance":0.25}],"topks":[2,1]}');
    assert.equal(request.annsField, 'v');
    assert.equal(request.ef, 64);
    assert.equal(request.radius, 0.1);
    assert.equal(request.metricType, undefined, 'searchParams.metricType is ignored, as Milvus does');
    assert.equal(request.sessionToken, 77n);
    assert.equal(request.consistencyLevel, 'Session');
    assert.deepEqual(request.outputFields, []);
    assert.ok(request.vectors[0] instanceof Float32Array);

    const none = stubDb({ describeCollection: () => info, search: () => [[]] });
    assert.equal((await call(none, '/v2/vectordb/entities/search', { collectionName: 'c', data: [[1, 0]] })).body, '{"code":0,"cost":0,"data":[],"topks":[0]}');
  });

  it('validates search input', async () => {
    const db = stubDb({ describeCollection: () => info, search: () => [[]] });
    // The query vectors' dimension is the engine planner's rule (test/unit/read-planner.test.ts).
    for (const limit of [0, 16385]) {
      assert.equal(json(await call(db, '/v2/vectordb/entities/search', { collectionName: 'c', data: [[1, 2]], limit })).code, 65535);
    }
    const anns = json(await call(db, '/v2/vectordb/entities/search', { collectionName: 'c', data: [[1, 2]], annsField: 'nope' }));
    assert.deepEqual(anns, { code: 1801, message: 'can only accept json format request, error: cannot find a vector field named: nope' });
    const level = json(await call(db, '/v2/vectordb/entities/search', { collectionName: 'c', data: [[1, 2]], consistencyLevel: 'Fast' }));
    assert.equal(level.code, 1100);
    assert.equal(json(await call(db, '/v2/vectordb/entities/search', { collectionName: 'c' })).code, 1802);
  });

  it('converts get ids per pk type and rejects bad ones with 1806', async () => {
    let ids: unknown;
    const db = stubDb({ describeCollection: () => info, get: (_d: string, _n: string, i: unknown) => ((ids = i), []) });
    await call(db, '/v2/vectordb/entities/get', { collectionName: 'c', id: [1, '2'] });
    assert.deepEqual(ids, [1n, 2n]);
    await call(db, '/v2/vectordb/entities/get', { collectionName: 'c', id: 3 });
    assert.deepEqual(ids, [3n]);
    const bad = json(await call(db, '/v2/vectordb/entities/get', { collectionName: 'c', id: [{}] }));
    assert.equal(bad.code, 1806);
    assert.match(bad.message, /^please check the primary key and its' type can only in \[int, string\]/);
    const missing = json(await call(db, '/v2/vectordb/entities/get', { collectionName: 'c', ID: 1 }));
    assert.equal(missing.code, 1802, '`id` is read case-sensitively');
  });

  it('describes a collection in Milvus shape', async () => {
    const db = stubDb({ describeCollection: () => info });
    const r = json(await call(db, '/v2/vectordb/collections/describe', { collectionName: 'c' }));
    assert.equal(r.code, 0);
    assert.equal(r.message, '');
    assert.deepEqual(Object.keys(r.data), [
      'aliases',
      'autoId',
      'collectionID',
      'collectionName',
      'consistencyLevel',
      'description',
      'enableDynamicField',
      'fields',
      'functions',
      'indexes',
      'load',
      'partitionsNum',
      'properties',
      'shardsNum',
    ]);
    assert.deepEqual(r.data.fields[1], {
      autoId: false,
      clusteringKey: false,
      description: '',
      id: 101,
      name: 'v',
      nullable: false,
      params: [{ key: 'dim', value: '2' }],
      partitionKey: false,
      primaryKey: false,
      type: 'FloatVector',
    });
    assert.equal(r.data.fields[4].elementType, 'Int64');
    assert.deepEqual(r.data.indexes, [{ fieldName: 'v', indexName: 'v', metricType: 'COSINE' }]);
  });
});
