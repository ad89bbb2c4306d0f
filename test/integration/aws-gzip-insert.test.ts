/**
 * Gzip request bodies through the API Lambda's handler on the emulators: API Gateway hands a
 * `Content-Encoding: gzip` body over base64-encoded (the stack's binaryMediaTypes), and a
 * 1,000-row × 768-d insert — about 8 MB as plain JSON, past Lambda's 6 MB request payload — fits
 * once compressed, lands exactly once and is searchable. A damaged stream or a wrong token is
 * refused and writes nothing. An HTTP API's payload 2.0 events are served as the REST API's.
 */
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { handleApiEvent } from '../../lib/aws/api-role.ts';
import { PATH_TOKEN, callPath, okData, startAwsPath, type AwsPath } from '../support/aws-path-setup.ts';

/** Lambda's synchronous request payload limit. */
const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
const DIM = 768;
const ROWS = 1000;

/** Deterministic 8-decimal floats, as a client serialising float32 embeddings sends them. */
function vector(i: number): number[] {
  return Array.from({ length: DIM }, (_, d) => Number((Math.sin(i * 7.31 + d * 0.13) * 0.5).toFixed(8)));
}

/** An API Gateway event for a gzip body, base64-encoded as the REST API delivers binary media. */
function gzipEvent(route: string, gzipped: Buffer, token = PATH_TOKEN): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: `/v2/vectordb/${route}`,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    body: gzipped.toString('base64'),
    isBase64Encoded: true,
  } as unknown as APIGatewayProxyEvent;
}

/** An HTTP API's payload 2.0 event (lower-case headers, `rawPath` on the `$default` stage). */
function httpApiEvent(route: string, body: Buffer | string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  const binary = typeof body !== 'string';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: `/v2/vectordb/${route}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path: `/v2/vectordb/${route}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
    body: binary ? body.toString('base64') : body,
    isBase64Encoded: binary,
  } as unknown as APIGatewayProxyEventV2;
}

describe('gzip inserts through the API handler', () => {
  let path: AwsPath;
  const count = async () =>
    okData(await callPath(path.proxy, 'entities/query', { collectionName: 'gz', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }))[0]['count(*)'];

  before(async () => {
    path = await startAwsPath({ idleSealMs: 600_000, compactionIntervalMs: 0 }, { querynodes: ['qn-a'] });
    okData(await callPath(path.proxy, 'collections/create', { collectionName: 'gz', dimension: DIM, metricType: 'L2', params: { shardsNum: 1 } }));
  });
  after(async () => path?.close());

  test('a 1,000-row 768-d insert too large for Lambda as JSON fits gzipped, lands once and is searchable', async () => {
    const json = JSON.stringify({ collectionName: 'gz', data: Array.from({ length: ROWS }, (_, id) => ({ id, vector: vector(id) })) });
    assert.ok(json.length > LAMBDA_PAYLOAD_BYTES, `the plain body (${json.length} bytes) is past Lambda's payload limit`);
    const event = gzipEvent('entities/insert', zlib.gzipSync(json));
    assert.ok(event.body!.length < LAMBDA_PAYLOAD_BYTES, `the base64 gzip body (${event.body!.length} bytes) fits`);

    const reply = JSON.parse((await handleApiEvent(path.proxy, event)).body);
    assert.equal(okData(reply).insertCount, ROWS);
    assert.equal(await count(), ROWS);
    const hits = okData(await callPath(path.proxy, 'entities/search', { collectionName: 'gz', data: [vector(417)], limit: 1, consistencyLevel: 'Strong' }));
    assert.equal(hits[0].id, 417);
  });

  test('a damaged gzip stream is a 1801 and a wrong token is refused before inflating; neither writes', async () => {
    const good = zlib.gzipSync(JSON.stringify({ collectionName: 'gz', data: [{ id: 5000, vector: vector(5000) }] }));
    const damaged = Buffer.from(good);
    damaged.fill(0x55, 10, damaged.length - 8);
    const broken = await handleApiEvent(path.proxy, gzipEvent('entities/insert', damaged));
    assert.equal(JSON.parse(broken.body).code, 1801, broken.body);

    const bomb = zlib.gzipSync(Buffer.alloc(256 * 1024 * 1024, 0x20));
    const denied = await handleApiEvent(path.proxy, gzipEvent('entities/insert', bomb, 'wrong-token'));
    assert.equal(denied.statusCode, 401, denied.body);
    assert.equal(await count(), ROWS, 'nothing was written');
  });

  test("an HTTP API's payload 2.0 events are served as the REST API's: a gzip insert, a search, a wrong token refused", async () => {
    const auth = { authorization: `Bearer ${PATH_TOKEN}` };
    const rows = Array.from({ length: 20 }, (_, k) => ({ id: 7000 + k, vector: vector(7000 + k) }));
    const insert = httpApiEvent('entities/insert', zlib.gzipSync(JSON.stringify({ collectionName: 'gz', data: rows })), { ...auth, 'content-encoding': 'gzip' });
    assert.equal(okData(JSON.parse((await handleApiEvent(path.proxy, insert)).body)).insertCount, 20);
    const search = httpApiEvent('entities/search', JSON.stringify({ collectionName: 'gz', data: [vector(7011)], limit: 1, consistencyLevel: 'Strong' }), auth);
    assert.equal(okData(JSON.parse((await handleApiEvent(path.proxy, search)).body))[0].id, 7011);
    const denied = await handleApiEvent(path.proxy, httpApiEvent('entities/insert', JSON.stringify({ collectionName: 'gz', data: rows }), { authorization: 'Bearer wrong' }));
    assert.equal(denied.statusCode, 401, denied.body);
    assert.equal(await count(), ROWS + 20);
  });
});
