/**
 * Request limits over HTTP: every client mistake that used to be a 65535 "Maximum call stack size
 * exceeded", a stalled server or a half-written batch gets its Milvus client code, a message naming
 * the limit and the value received, and changes nothing (count(*) before = after).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_AUTOID_BATCH, MAX_FILTER_LENGTH, MAX_JSON_DEPTH, MAX_REQUEST_DEPTH, MAX_TERM_COUNT } from '../../lib/engine/request-limits.ts';
import { handleRequest } from '../../lib/api/router.ts';
import type { Database } from '../../lib/engine/database.ts';
import { DISK_LIMIT_CODE } from '../../lib/api/error-codes.ts';
import { StorageError } from '../../lib/engine/errors.ts';
import { fails, ok, startTestServer, uniqueName, type TestServer } from './support.ts';

/** `[[[…1…]]]` nested `n` levels, as text (JSON.stringify itself overflows on the deepest ones). */
function nested(n: number): string {
  return `${'['.repeat(n)}1${']'.repeat(n)}`;
}

describe('request limits', () => {
  let s: TestServer;
  let name: string;
  const count = async (): Promise<number> => ok(await s.post('entities/query', { collectionName: name, filter: '', outputFields: ['count(*)'] })).data[0]['count(*)'];

  before(async () => {
    s = await startTestServer();
    name = uniqueName('limits');
    // Two shards: a batch spans both channels, as in the report of a half-written batch.
    ok(await s.post('collections/create', { collectionName: name, dimension: 2, params: { consistencyLevel: 'Strong', shardsNum: 2 } }));
    ok(await s.post('entities/insert', { collectionName: name, data: [{ id: 1, vector: [1, 2], s: 'a'.repeat(100) }] }));
  });
  after(async () => s.close());

  it('answers 100,000-level nesting anywhere in a body with 1801 naming the depth limit (1804 in the rows of an insert or upsert)', async () => {
    const deep = nested(100_000);
    for (const path of ['entities/insert', 'entities/upsert']) {
      const body = `{"collectionName":"${name}","data":[{"id":2,"vector":[1,2],"j":${nested(4_200)}}]}`;
      fails(await s.post(path, body), 1804, new RegExp(`invalid insert data, error: the request body nests more than ${MAX_REQUEST_DEPTH} levels deep`));
    }
    const bodies: [string, string][] = [
      ['entities/query', `{"collectionName":"${name}","filter":"id in {a}","exprParams":{"a":${deep}}}`],
      ['entities/search', `{"collectionName":"${name}","data":[[1,2]],"searchParams":{"params":{"ef":${deep}}}}`],
      ['entities/get', `{"collectionName":"${name}","id":${deep}}`],
      ['collections/create', `{"collectionName":"${uniqueName('deep')}","dimension":2,"params":{"x":${deep}}}`],
      ['collections/alter_properties', `{"collectionName":"${name}","properties":{"p":${deep}}}`],
    ];
    for (const [path, body] of bodies) {
      fails(await s.post(path, body), 1801, new RegExp(`nests more than ${MAX_REQUEST_DEPTH} levels deep .*the limit is ${MAX_REQUEST_DEPTH}`));
    }
    assert.equal(await count(), 1);
  });

  it('answers a 64 MiB nested-array body at once instead of parsing it for seconds', async () => {
    const half = 32 * 1024 * 1024 - 64;
    const t0 = Date.now();
    fails(await s.post('entities/insert', `{"collectionName":"${name}","data":${'['.repeat(half)}${']'.repeat(half)}}`), 1804, /nests more than/);
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
  });

  it('refuses a deep JSON value in a two-shard batch with 1804 and writes none of the batch; Strong reads stay prompt', async () => {
    const data = Array.from({ length: 11 }, (_, i) => `{"id":${100 + i},"vector":[1,2],"j":${i === 7 ? nested(MAX_JSON_DEPTH + 50) : 1}}`);
    const message = fails(await s.post('entities/insert', `{"collectionName":"${name}","data":[${data.join(',')}]}`), 1804);
    assert.match(message, new RegExp(`row 7, field j: the JSON value nests more than ${MAX_JSON_DEPTH} levels deep; the limit is ${MAX_JSON_DEPTH}`));
    const dynamic = fails(await s.post('entities/insert', `{"collectionName":"${name}","data":[{"id":3,"vector":[1,2],"dyn":${nested(MAX_JSON_DEPTH + 1)}}]}`), 1804);
    assert.match(dynamic, /row 0, field dyn: the JSON value nests more than/);
    // A JSON field given as JSON text is held to the same depth, however deep (its parser recursed).
    const typed = uniqueName('json');
    ok(
      await s.post('collections/create', {
        collectionName: typed,
        schema: {
          fields: [
            { fieldName: 'id', dataType: 'Int64', isPrimary: true },
            { fieldName: 'v', dataType: 'FloatVector', elementTypeParams: { dim: 2 } },
            { fieldName: 'j', dataType: 'JSON' },
          ],
        },
      }),
    );
    const text = fails(await s.post('entities/insert', { collectionName: typed, data: [{ id: 5, v: [1, 2], j: nested(50_000) }] }), 1804);
    assert.match(text, /row 0, field j: the JSON value nests more than 256 levels deep/);
    const t0 = Date.now();
    assert.equal(await count(), 1);
    assert.ok(Date.now() - t0 < 2_000, `a Strong count took ${Date.now() - t0} ms`);
    // As deep as allowed is accepted.
    ok(await s.post('entities/insert', `{"collectionName":"${name}","data":[{"id":4,"vector":[1,2],"j":${nested(MAX_JSON_DEPTH - 1)}}]}`));
    assert.equal(await count(), 2);
    ok(await s.post('entities/delete', { collectionName: name, filter: 'id == 4' }));
  });

  it('refuses an overlong filter, a huge in list and a huge exprParams list with 1100 naming the limit', async () => {
    const long = `id > 0 ${'and id > 0 '.repeat(Math.ceil(MAX_FILTER_LENGTH / 10))}`;
    fails(
      await s.post('entities/query', { collectionName: name, filter: long }),
      1100,
      new RegExp(`the expression is ${long.length} characters long; the limit is ${MAX_FILTER_LENGTH}: send long value lists as template values`),
    );
    const ids = Array.from({ length: MAX_TERM_COUNT + 1 }, (_, i) => i);
    fails(
      await s.post('entities/query', { collectionName: name, filter: 'id in {ids}', exprParams: { ids } }),
      1100,
      new RegExp(`template variable \\{ids\\} is a list of ${ids.length} values; the limit is ${MAX_TERM_COUNT}`),
    );
    fails(
      await s.post('entities/query', { collectionName: name, filter: 'id in {ids}', exprParams: { ids: Array.from({ length: 1_000_000 }, () => 1) } }),
      1100,
      /exprParams hold more than/,
    );
    const text = `id in [${Array.from({ length: MAX_TERM_COUNT + 1 }, () => '1').join(',')}]`;
    fails(await s.post('entities/query', { collectionName: name, filter: text }), 1100, new RegExp(`the list has ${MAX_TERM_COUNT + 1} values; the limit is ${MAX_TERM_COUNT}`));
    fails(await s.post('entities/delete', { collectionName: name, filter: text }), 1100, /the limit is 65536/);
    fails(await s.post('entities/get', { collectionName: name, id: ids }), 1100, new RegExp(`get asks for ${ids.length} ids; the limit is ${MAX_TERM_COUNT}`));
    fails(
      await s.post('entities/query', { collectionName: name, filter: 'id in {a}', exprParams: { a: JSON.parse(nested(MAX_JSON_DEPTH + 1)) } }),
      1100,
      /template value \{a\} nests more than 256 levels/,
    );
    assert.equal(await count(), 1);
  });

  it('refuses a 10,000-character like pattern with 1100 and matches an adversarial one promptly', async () => {
    fails(await s.post('entities/query', { collectionName: name, filter: `s like "${'_'.repeat(10_000)}"` }), 1100, /like pattern is 10000 characters long; the limit is 4096/);
    const t0 = Date.now();
    assert.deepEqual(ok(await s.post('entities/query', { collectionName: name, filter: 's like "%a%a%a%a%a%a%a%a%a%a%a%b"' })).data, []);
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
  });

  it(`refuses an autoID insert of more than ${MAX_AUTOID_BATCH} rows with 1804 naming the maximum`, async () => {
    const auto = uniqueName('auto');
    ok(
      await s.post('collections/create', {
        collectionName: auto,
        schema: {
          autoID: true,
          fields: [
            { fieldName: 'id', dataType: 'Int64', isPrimary: true },
            { fieldName: 'v', dataType: 'FloatVector', elementTypeParams: { dim: 2 } },
          ],
        },
      }),
    );
    const row = '{"v":[1,2]}';
    const body = `{"collectionName":"${auto}","data":[${Array.from({ length: MAX_AUTOID_BATCH + 1 }, () => row).join(',')}]}`;
    fails(await s.post('entities/insert', body), 1804, new RegExp(`autoID collection takes at most ${MAX_AUTOID_BATCH} rows, but \`data\` has ${MAX_AUTOID_BATCH + 1}: split it`));
  });

  it('answers a write that fails on a full disk with 7 "disk limit exceeded" and what to do', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const failing = {
      insert: async () => {
        throw new StorageError('WAL channel c1-0 stopped accepting appends after a write failure', { cause: enospc });
      },
    } as unknown as Database;
    const reply = await handleRequest(failing, {
      method: 'POST',
      path: '/v2/vectordb/entities/insert',
      headers: {},
      body: JSON.stringify({ collectionName: 'c', data: [{ id: 1 }] }),
    });
    assert.equal(reply.status, 200);
    const body = JSON.parse(reply.body);
    assert.equal(body.code, DISK_LIMIT_CODE);
    assert.match(
      body.message,
      /^disk limit exceeded: the server's disk is full \(WAL channel c1-0 stopped accepting appends.*\); free space on the server's data disk, then retry$/,
    );
  });
});
