/**
 * One pathological request must not stall the server for everyone else. Each case sends a request
 * that used to block the event loop for seconds to minutes (a backtracking `like`, a 64 MiB nested
 * body, a 1,000,000-key `in` list, a large insert parsed in one go) and checks that a small request
 * sent alongside it is answered promptly, that the pathological one gets a clear client error (or
 * succeeds, for the legal insert), and that every acknowledged row is present exactly once.
 * Bounds are generous (seconds) for a loaded 2-core CI box: before the fix the same cases took 15 s
 * to 150 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHUNK_BYTES, parseJsonBody } from '../../lib/api/json-parse.ts';
import { fails, ok, startTestServer, uniqueName, vector, type TestServer, type Reply } from '../api/support.ts';

const DIM = 16;
/** A small request sent alongside a pathological one must be answered within this (it took 15–150 s). */
const PROMPT_MS = 3_000;

describe('request limits under load', () => {
  let s: TestServer;
  let name: string;
  const ROWS = 1000;

  /** Times a describe sent while `pathological` is in flight; returns both replies. */
  async function alongside(pathological: () => Promise<Reply>): Promise<{ slow: Reply; smallMs: number }> {
    const slowP = pathological();
    // Let the pathological request reach the server first.
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    ok(await s.post('collections/describe', { collectionName: name }));
    const smallMs = Date.now() - t0;
    return { slow: await slowP, smallMs };
  }

  const count = async (): Promise<number> => ok(await s.post('entities/query', { collectionName: name, filter: '', outputFields: ['count(*)'] })).data[0]['count(*)'];

  before(async () => {
    s = await startTestServer();
    name = uniqueName('stall');
    ok(await s.post('collections/create', { collectionName: name, dimension: DIM, params: { consistencyLevel: 'Strong', shardsNum: 2 } }));
    const data = Array.from({ length: ROWS }, (_, i) => ({ id: i, vector: vector(DIM, i), s: 'a'.repeat(100 + (i % 50)) }));
    ok(await s.post('entities/insert', { collectionName: name, data }));
  });
  after(async () => s.close());

  it('answers a small request while an adversarial like pattern scans 1,000 long values', async () => {
    const { slow, smallMs } = await alongside(() => s.post('entities/query', { collectionName: name, filter: 's like "%a%a%a%a%a%a%a%a%a%a%b"', limit: 10 }));
    assert.deepEqual(ok(slow).data, []);
    assert.ok(smallMs < PROMPT_MS, `the small request waited ${smallMs} ms`);
  });

  it('answers a small request while a 1,000,000-key in list is refused', async () => {
    const ids = Array.from({ length: 1_000_000 }, (_, i) => i);
    const { slow, smallMs } = await alongside(() => s.post('entities/query', { collectionName: name, filter: 'id in {ids}', exprParams: { ids } }));
    fails(slow, 1100, /the limit is/);
    assert.ok(smallMs < PROMPT_MS, `the small request waited ${smallMs} ms`);
  });

  it('answers a small request while a 64 MiB nested-array body is refused, and nothing changes', async () => {
    const half = 32 * 1024 * 1024 - 64;
    const body = `{"collectionName":"${name}","data":${'['.repeat(half)}${']'.repeat(half)}}`;
    const { slow, smallMs } = await alongside(() => s.post('entities/insert', body));
    fails(slow, 1804, /nests more than 1024 levels deep/);
    assert.ok(smallMs < PROMPT_MS, `the small request waited ${smallMs} ms`);
    assert.equal(await count(), ROWS);
  });

  it('answers a small request while a large legal insert is parsed, and stores its rows exactly once', async () => {
    const extra = 4000;
    const data = Array.from({ length: extra }, (_, i) => ({ id: ROWS + i, vector: vector(DIM, ROWS + i), s: 'b'.repeat(1000) }));
    const { slow, smallMs } = await alongside(() => s.post('entities/insert', { collectionName: name, data }));
    assert.equal(ok(slow).data.insertCount, extra);
    assert.ok(smallMs < PROMPT_MS, `the small request waited ${smallMs} ms`);
    assert.equal(await count(), ROWS + extra);
    const got = ok(await s.post('entities/query', { collectionName: name, filter: `id >= ${ROWS}`, limit: 0, outputFields: ['id'] })).data;
    assert.equal(new Set(got.map((r: any) => r.id)).size, extra);
  });

  it('parses a large body in slices with the event loop free in between, to the same value as JSON.parse', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, vector: vector(DIM, i), s: 'c'.repeat(i % 3000), big: 9007199254740993n }));
    const text = JSON.stringify({ collectionName: 'x', data: rows, other: [1, 2, 3] }, (_k, v: unknown) => (typeof v === 'bigint' ? `@${v}` : v)).replace(/"@(\d+)"/g, '$1');
    assert.ok(text.length > 4 * CHUNK_BYTES);
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const parsed = (await parseJsonBody(text)) as { data: Array<Record<string, unknown>>; other: number[]; collectionName: string };
    ticking = false;
    assert.ok(turns >= 4, `the event loop ran ${turns} times during the parse`);
    assert.equal(parsed.collectionName, 'x');
    assert.deepEqual(parsed.other, [1, 2, 3]);
    assert.equal(parsed.data.length, rows.length);
    assert.equal(parsed.data[2999]!.big, 9007199254740993n, 'Int64 beyond 2^53 stays exact in a slice');
    assert.deepEqual(
      parsed.data.map((r) => r.id),
      rows.map((r) => r.id),
    );
    assert.deepEqual(parsed.data[1234], { ...rows[1234], big: 9007199254740993n });
  });

  it('leaves no channel waiting when one record of a two-shard batch fails to encode: Strong reads answer at once', async () => {
    // A value the row check accepts but the WAL codec cannot write (only reachable through the engine API).
    const unencodable = {
      toJSON(): never {
        throw new Error('this value cannot be encoded');
      },
    };
    const before = await count();
    const rows = Array.from({ length: 11 }, (_, i) => ({ id: 100_000 + i, vector: vector(DIM, i), j: i === 7 ? unencodable : 1 }));
    await assert.rejects(s.db.insert('default', name, rows, { upsert: false }), /cannot be encoded/);
    const t0 = Date.now();
    assert.equal(await count(), before, 'no row of the failed batch is visible');
    assert.ok(Date.now() - t0 < PROMPT_MS, `a Strong count took ${Date.now() - t0} ms (it timed out after 10 s, until restart)`);
  });

  it('parses large bodies in slices exactly as JSON.parse: a BOM, duplicate keys (last wins), strings with brackets, errors', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ({ id: i, s: `[{"\\]${'é'.repeat(i % 1000)}"},` }));
    const text = JSON.stringify({ data: [{ id: -1 }], n: 1, data2: rows }).replace('"data2"', '"data"');
    const parsed = (await parseJsonBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))) as { data: unknown[]; n: number };
    assert.ok(Buffer.byteLength(text) > 2 * CHUNK_BYTES);
    assert.equal(parsed.n, 1);
    assert.deepEqual(parsed.data, rows);
    const broken = text.replace('"id":3000,', '"id":3000,,');
    await assert.rejects(parseJsonBody(broken), SyntaxError);
    fails(await s.post('entities/insert', broken), 1801, /^can only accept json format request, error: /);
  });
});
