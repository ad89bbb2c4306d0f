/**
 * `Content-Encoding: gzip` request bodies on the embedded server: a gzip insert is applied like a
 * plain one; a body that inflates past the limit (a zip bomb) gets the same 1102 as an oversize plain
 * body and is inflated only up to the limit; a damaged stream is a 1801, an encoding other than gzip
 * a 1100 naming what is accepted, and none of them writes anything. A request with a wrong token is
 * answered 401 before any of its body is inflated.
 */
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { BodyDecoder, bodyEncodingOf, decodeBody } from '../../lib/api/request-body.ts';
import { fails, ok, startTestServer, uniqueName, vector, type Reply, type TestServer } from './support.ts';

const LIMIT = 1024 * 1024;
const TOKEN = 'gzip-test-token';

/** POSTs raw bytes with the given headers. */
async function postBytes(s: TestServer, route: string, body: Buffer, headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(`${s.url}/v2/vectordb/${route}`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** An insert body of `n` rows from id `from`, gzipped. */
function gzipInsert(collectionName: string, from: number, n: number): Buffer {
  const data = Array.from({ length: n }, (_, k) => ({ id: from + k, vector: vector(8, from + k), tag: `t${from + k}` }));
  return zlib.gzipSync(JSON.stringify({ collectionName, data }));
}

/** A valid insert body padded with `padding` spaces (JSON whitespace), gzipped: tiny on the wire, huge inflated. */
function bomb(collectionName: string, padding: number): Buffer {
  const head = `{"collectionName":"${collectionName}","data":[{"id":999,"vector":${JSON.stringify(vector(8, 999))}}]`;
  return zlib.gzipSync(Buffer.concat([Buffer.from(head), Buffer.alloc(padding, 0x20), Buffer.from('}')]), { level: 9 });
}

/** 64 MiB inflated: 64 times the test server's limit. */
const BOMB_PADDING = 64 * 1024 * 1024;

describe('gzip request bodies (embedded server)', () => {
  let s: TestServer;
  let name: string;
  const count = async (): Promise<number> =>
    ok(await s.post('entities/query', { collectionName: name, filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }, { authorization: `Bearer ${TOKEN}` })).data[0][
      'count(*)'
    ];

  before(async () => {
    s = await startTestServer({ token: TOKEN, maxBodyBytes: LIMIT });
    name = uniqueName('gzip');
    ok(await s.post('collections/create', { collectionName: name, dimension: 8, metricType: 'L2', params: { consistencyLevel: 'Strong' } }, { authorization: `Bearer ${TOKEN}` }));
  });
  after(async () => s.close());

  it('applies a gzip insert like a plain one: the rows come back from a query', async () => {
    const res = ok(await postBytes(s, 'entities/insert', gzipInsert(name, 0, 200), { 'content-encoding': 'gzip' }));
    assert.equal(res.data.insertCount, 200);
    // x-gzip is gzip's registered alias; identity next to it is no coding at all.
    ok(await postBytes(s, 'entities/insert', gzipInsert(name, 200, 10), { 'content-encoding': 'identity, x-gzip' }));
    const q = ok(
      await postBytes(s, 'entities/query', zlib.gzipSync(JSON.stringify({ collectionName: name, filter: 'id in [3, 205]', outputFields: ['tag'] })), {
        'content-encoding': 'gzip',
      }),
    );
    assert.deepEqual(
      q.data.map((r: any) => [r.id, r.tag]).sort((a: any, b: any) => a[0] - b[0]),
      [
        [3, 't3'],
        [205, 't205'],
      ],
    );
    assert.equal(await count(), 210);
  });

  it('refuses a gzip body within the limit on the wire but past it inflated, and writes nothing', async () => {
    const big = gzipInsert(name, 1000, 12_000);
    assert.ok(big.length < LIMIT, `compressed ${big.length}`);
    assert.ok(zlib.gunzipSync(big).length > LIMIT);
    fails(await postBytes(s, 'entities/insert', big, { 'content-encoding': 'gzip' }), 1102, /larger than the 1 MiB limit \(1048576 bytes\) once gunzipped: parameter too large/);
    assert.equal(await count(), 210);
  });

  it('refuses a zip bomb with the body-too-large 1102 and writes nothing', async () => {
    const body = bomb(name, BOMB_PADDING);
    assert.ok(body.length < 256 * 1024, `bomb is ${body.length} bytes on the wire`);
    fails(
      await postBytes(s, 'entities/insert', body, { 'content-encoding': 'gzip' }),
      1102,
      /larger than the 1 MiB limit .* once gunzipped: parameter too large; send fewer rows per request/,
    );
    assert.equal(await count(), 210);
  });

  it('inflates a bomb only up to the limit, not to its end', async () => {
    const body = bomb(name, BOMB_PADDING);
    const decoder = new BodyDecoder('gzip', LIMIT);
    decoder.write(body);
    await assert.rejects(decoder.end(), (err: any) => err.code === 1102);
    // Spaces compress ~1000:1: stopped at 1 MiB inflated, the stream has consumed a sliver of its input.
    assert.ok(decoder.consumedBytes < body.length / 2, `consumed ${decoder.consumedBytes} of ${body.length} compressed bytes`);
    await assert.rejects(decodeBody(body, 'gzip', LIMIT), (err: any) => err.code === 1102 && /once gunzipped/.test(err.message));
  });

  it('refuses a damaged gzip stream with 1801 naming it, and writes nothing', async () => {
    const good = gzipInsert(name, 5000, 50);
    const truncated = good.subarray(0, good.length - 20);
    fails(await postBytes(s, 'entities/insert', truncated, { 'content-encoding': 'gzip' }), 1801, /not a valid gzip stream \(Content-Encoding: gzip\): unexpected end of file/);
    const flipped = Buffer.from(good);
    for (let i = 20; i < 60; i++) flipped[i] ^= 0xff;
    fails(await postBytes(s, 'entities/insert', flipped, { 'content-encoding': 'gzip' }), 1801, /not a valid gzip stream/);
    fails(await postBytes(s, 'entities/insert', Buffer.from(JSON.stringify({ collectionName: name, data: [] })), { 'content-encoding': 'gzip' }), 1801, /not a valid gzip stream/);
    assert.equal(await count(), 210);
  });

  it('refuses an encoding other than gzip with 1100 naming what is accepted, and writes nothing', async () => {
    for (const encoding of ['br', 'deflate', 'zstd', 'gzip, gzip']) {
      const body = encoding === 'br' ? zlib.brotliCompressSync(JSON.stringify({ collectionName: name, data: [] })) : gzipInsert(name, 6000, 5);
      fails(
        await postBytes(s, 'entities/insert', body, { 'content-encoding': encoding }),
        1100,
        `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the body uncompressed, or gzip-compressed with "Content-Encoding: gzip"`,
      );
    }
    assert.throws(
      () => bodyEncodingOf('compress'),
      (err: any) => err.code === 1100,
    );
    assert.equal(await count(), 210);
  });

  it('answers a wrong token with 401 before inflating the body: a bomb or a damaged stream alike', async () => {
    for (const body of [bomb(name, BOMB_PADDING), Buffer.from('not gzip at all')]) {
      const r = await postBytes(s, 'entities/insert', body, { 'content-encoding': 'gzip', authorization: 'Bearer wrong' });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.body.code, 1800, r.text);
    }
    // An encoding we refuse is also answered 401 first.
    const r = await postBytes(s, 'entities/insert', Buffer.from('x'), { 'content-encoding': 'br', authorization: 'Bearer wrong' });
    assert.equal(r.status, 401, r.text);
    assert.equal(await count(), 210);
  });

  it('decodes in the router too (API Gateway events): gzip after auth, identity unchanged', async () => {
    assert.equal(await decodeBody('{"a":1}', undefined), '{"a":1}');
    assert.equal((await decodeBody(zlib.gzipSync('{"a":1}'), 'GZIP')).toString(), '{"a":1}');
    // Bytes that went through a text decoding on the way do not inflate: the message says where to look.
    await assert.rejects(decodeBody(zlib.gzipSync('{"a":1}').toString('utf8'), 'gzip'), (err: any) => err.code === 1801 && /binaryMediaTypes/.test(err.message));
    await assert.rejects(decodeBody(Buffer.alloc(LIMIT + 1), 'gzip', LIMIT), (err: any) => err.code === 1102 && !/once gunzipped/.test(err.message));
  });
});
