/** HTTP transport of the REST API: parsing, envelopes, preflight, 404, auth, body limit (CORS and Host: http-security.test.ts). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '../../lib/api/node-server.ts';
import { fails, ok, startTestServer, type TestServer } from './support.ts';

describe('REST transport (no auth)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ maxBodyBytes: 1024 * 1024 });
  });
  after(async () => s.close());

  it('parses JSON whatever the Content-Type (the Node SDK sends text/plain)', async () => {
    const r = await s.post('collections/list', '{}', { 'content-type': 'text/plain;charset=UTF-8' });
    assert.deepEqual(ok(r), { code: 0, data: [] });
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS headers unless an allowed origin asks');
  });

  it('treats a null body as {}', async () => {
    ok(await s.post('collections/list', 'null'));
  });

  it('rejects an empty body with Milvus text (1801)', async () => {
    fails(await s.post('collections/list', ''), 1801, 'can only accept json format request, the request body should be nil, however {} is valid');
  });

  it('rejects malformed JSON (1801)', async () => {
    fails(await s.post('collections/list', '{"dbName": "default",'), 1801, /^can only accept json format request, error: /);
    fails(await s.post('collections/has', '{collectionName: x}'), 1801);
  });

  it('rejects wrong types (1801) and missing required fields (1802)', async () => {
    fails(await s.post('collections/has', { collectionName: 12 }), 1801, /cannot unmarshal number 12 into Go struct field CollectionNameReq.collectionName of type string/);
    fails(await s.post('collections/has', {}), 1802, /CollectionNameReq.CollectionName.*'required' tag/);
    fails(await s.post('collections/has', { collectionName: '' }), 1802);
  });

  it('answers OPTIONS without an Origin with 204 and no CORS headers', async () => {
    const r = await s.request('OPTIONS', '/v2/vectordb/collections/list');
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal(r.headers.get('access-control-allow-methods'), null);
  });

  it('answers unknown routes and GET with a plain 404', async () => {
    for (const [method, p] of [
      ['POST', '/v2/vectordb/collections/nope'],
      ['GET', '/v2/vectordb/collections/list'],
      ['POST', '/'],
    ] as const) {
      const r = await s.request(method, p, method === 'GET' ? undefined : '{}');
      assert.equal(r.status, 404);
      assert.equal(r.text, '404 page not found');
    }
  });

  it('answers an oversize body with a clear error and keeps serving', async () => {
    const big = JSON.stringify({ collectionName: 'x', data: [{ blob: 'x'.repeat(2 * 1024 * 1024) }] });
    const r = await s.post('entities/insert', big);
    fails(r, 1102, /request body is larger than the 1 MiB limit.*send fewer rows per request/);
    ok(await s.post('collections/list', '{}'));
    assert.equal(DEFAULT_MAX_BODY_BYTES, 64 * 1024 * 1024);
  });
});

describe('REST transport (token)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ token: 'root:Milvus' });
  });
  after(async () => s.close());

  it('refuses requests without the token (401, 1800)', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Bearer ' }] as Record<string, string>[]) {
      const r = await s.post('collections/list', '{}', headers);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { code: 1800, message: "user hasn't authenticated" });
    }
  });

  it('accepts Bearer <token> and Basic user:password equal to it', async () => {
    ok(await s.post('collections/list', '{}', { authorization: 'Bearer root:Milvus' }));
    ok(await s.post('collections/list', '{}', { authorization: `Basic ${Buffer.from('root:Milvus').toString('base64')}` }));
  });
});
