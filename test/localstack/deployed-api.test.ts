/**
 * The README walkthrough against a running Migrans API: the stack deployed to LocalStack
 * (`localstack/deploy.sh` runs this with `cdk.out/localstack.env`), a real AWS deployment, `npm run
 * dev:aws` or `npm start`. Set MIGRANS_API_URL (the base URL, without /v2/vectordb) and the token in
 * MIGRANS_TOKEN, or MIGRANS_TOKEN_SECRET_ARN to read it from Secrets Manager. Skipped without
 * MIGRANS_API_URL (`npm test` covers the same path on the emulators in test/integration/).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveApiToken } from '../../lib/aws/api-token.ts';

const base = process.env.MIGRANS_API_URL?.replace(/\/+$/, '');
const COLLECTION = `walkthrough_${process.pid}_${Date.now()}`;
/** Lambda cold starts on LocalStack take a while. */
const REQUEST_TIMEOUT_MS = 120_000;

interface Envelope {
  code: number;
  message?: string;
  data?: unknown;
}

describe('a deployed Migrans API answers the README walkthrough', { skip: base ? false : 'MIGRANS_API_URL is not set' }, () => {
  const tokenSecretArn = process.env.MIGRANS_TOKEN_SECRET_ARN || undefined;
  const envToken = process.env.MIGRANS_TOKEN || undefined;
  let token: string | undefined;

  async function call(route: string, body: unknown, auth = token): Promise<{ status: number; env: Envelope }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth !== undefined) headers.authorization = `Bearer ${auth}`;
    const res = await fetch(`${base}/v2/vectordb/${route}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { status: res.status, env: (await res.json()) as Envelope };
  }

  async function ok(route: string, body: unknown): Promise<unknown> {
    const { status, env } = await call(route, body);
    assert.equal(status, 200, `${route}: HTTP ${status}`);
    assert.equal(env.code, 0, `${route}: ${JSON.stringify(env)}`);
    return env.data;
  }

  const strong = { consistencyLevel: 'Strong' };
  const ids = (rows: unknown) => (rows as { id: number | string }[]).map((r) => Number(r.id)).sort((a, b) => a - b);

  before(async () => {
    token = tokenSecretArn || envToken ? await resolveApiToken({ tokenSecretArn, token: envToken }) : undefined;
  });

  after(async () => {
    await call('collections/drop', { collectionName: COLLECTION }).catch(() => undefined);
  });

  it('refuses a wrong token', { skip: tokenSecretArn || envToken ? false : 'no token configured (MIGRANS_TOKEN, MIGRANS_TOKEN_SECRET_ARN)' }, async () => {
    const { env } = await call('collections/list', {}, 'not-the-token');
    assert.notEqual(env.code, 0, `a wrong token must be refused: ${JSON.stringify(env)}`);
  });

  it('creates, writes, searches, queries, deletes and drops', async () => {
    await ok('collections/create', { collectionName: COLLECTION, dimension: 4, metricType: 'COSINE' });
    const rows = [
      { id: 1, vector: [0.1, 0.2, 0.3, 0.4], color: 'red' },
      { id: 2, vector: [0.4, 0.3, 0.2, 0.1], color: 'blue' },
      { id: 3, vector: [0.1, 0.1, 0.9, 0.1], color: 'red' },
    ];
    const inserted = (await ok('entities/insert', { collectionName: COLLECTION, data: rows })) as { insertCount: number };
    assert.equal(inserted.insertCount, 3, 'three rows acknowledged');

    const hits = (await ok('entities/search', { collectionName: COLLECTION, data: [[0.1, 0.2, 0.3, 0.4]], limit: 2, outputFields: ['color'], ...strong })) as {
      id: number;
      color: string;
    }[];
    assert.equal(hits.length, 2, `two hits: ${JSON.stringify(hits)}`);
    assert.equal(Number(hits[0].id), 1, 'the query vector itself is the nearest row');
    assert.equal(hits[0].color, 'red', 'output fields come back');

    const red = await ok('entities/query', { collectionName: COLLECTION, filter: 'color == "red"', outputFields: ['id', 'color'], ...strong });
    assert.deepEqual(ids(red), [1, 3], 'the filter selects the red rows');

    await ok('entities/upsert', { collectionName: COLLECTION, data: [{ id: 2, vector: [0.4, 0.3, 0.2, 0.1], color: 'red' }] });
    const got = (await ok('entities/get', { collectionName: COLLECTION, id: [2], outputFields: ['color'], ...strong })) as { color: string }[];
    assert.deepEqual(
      got.map((r) => r.color),
      ['red'],
      'the upsert replaced row 2',
    );

    await ok('entities/delete', { collectionName: COLLECTION, filter: 'id in [1]' });
    const count = (await ok('entities/query', { collectionName: COLLECTION, filter: '', outputFields: ['count(*)'], ...strong })) as { 'count(*)': number }[];
    assert.equal(count[0]['count(*)'], 2, 'one of three rows deleted');
  });

  it('rejects a wrong dimension with a clear error and keeps the data unchanged', async () => {
    const { env } = await call('entities/insert', { collectionName: COLLECTION, data: [{ id: 9, vector: [1, 2, 3], color: 'x' }] });
    assert.notEqual(env.code, 0, `a 3-d vector into a 4-d field must be refused: ${JSON.stringify(env)}`);
    assert.match(env.message ?? '', /dim/i, 'the message names the dimension problem');
    const count = (await ok('entities/query', { collectionName: COLLECTION, filter: '', outputFields: ['count(*)'], ...strong })) as { 'count(*)': number }[];
    assert.equal(count[0]['count(*)'], 2, 'nothing was written');
  });

  it('drops the collection', async () => {
    await ok('collections/drop', { collectionName: COLLECTION });
    const list = (await ok('collections/list', {})) as string[];
    assert.ok(!list.includes(COLLECTION), `the dropped collection is gone from the list: ${JSON.stringify(list)}`);
  });
});
