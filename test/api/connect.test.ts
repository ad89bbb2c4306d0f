/**
 * The library API: `connect(dir)` embeds the engine in the process and `connect(url, { token })`
 * talks to a server, with the same methods over the REST v2 request shapes and the same answers; a
 * refused request is a MilvusApiError with Milvus's code; closing releases the data directory.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { connect, MilvusApiError, type MigransClient } from '../../lib/connect.ts';
import { startServerProcess } from '../support/server-process.ts';

const vec = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(i / 3), Math.sin(i / 7)];

/** The README's walkthrough through a client: what each step answers. */
async function walkthrough(db: MigransClient): Promise<void> {
  await db.createCollection({ collectionName: 'docs', dimension: 4 });
  assert.deepEqual((await db.listCollections()).data, ['docs']);
  const inserted = await db.insert({ collectionName: 'docs', data: Array.from({ length: 50 }, (_, id) => ({ id, vector: vec(id), color: id % 2 ? 'red' : 'blue' })) });
  assert.deepEqual(inserted.data, { insertCount: 50, insertIds: Array.from({ length: 50 }, (_, i) => i) });
  const hits = (await db.search({ collectionName: 'docs', data: [vec(7)], limit: 3, filter: 'color == "red"', outputFields: ['color'], consistencyLevel: 'Strong' })).data as {
    id: number;
    color: string;
  }[];
  assert.equal(hits[0].id, 7);
  assert.ok(hits.every((h) => h.color === 'red'));
  assert.deepEqual((await db.query({ collectionName: 'docs', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' })).data, [{ 'count(*)': 50 }]);
  await db.upsert({ collectionName: 'docs', data: [{ id: 3, vector: vec(3), color: 'green' }] });
  await db.delete({ collectionName: 'docs', filter: 'id in [4, 5]' });
  assert.deepEqual((await db.get({ collectionName: 'docs', id: [3, 4], outputFields: ['color'], consistencyLevel: 'Strong' })).data, [{ id: 3, color: 'green' }]);
  await assert.rejects(
    db.search({ collectionName: 'nope', data: [vec(1)] }),
    (err: unknown) => err instanceof MilvusApiError && err.code === 100 && err.route === 'entities/search' && /nope/.test(err.message),
  );
  await assert.rejects(
    db.insert({ collectionName: 'docs', data: [{ id: 99, vector: [1, 2] }] }),
    (err: unknown) => err instanceof MilvusApiError && err.code === 1804 && /dimension mismatch/.test(err.message),
  );
  await db.dropCollection({ collectionName: 'docs' });
  assert.deepEqual((await db.listCollections()).data, []);
}

describe('connect()', () => {
  it('embedded: a data directory serves the walkthrough in process, and closing releases the directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-connect-'));
    try {
      const db = await connect(dir);
      await walkthrough(db);
      await db.createCollection({ collectionName: 'kept', dimension: 4 });
      await db.close();
      await assert.rejects(db.listCollections(), (err: unknown) => err instanceof MilvusApiError && /closed/.test(err.message));
      const again = await connect(dir);
      assert.deepEqual((await again.listCollections()).data, ['kept'], 'the directory was released and its data kept');
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('options that do not apply are refused, not ignored: engine settings for a server, a token for a directory', async () => {
    await assert.rejects(
      connect('http://127.0.0.1:1', { config: { sealRows: 10 } }),
      (err: unknown) => err instanceof MilvusApiError && err.code === 1100 && /config/.test(err.message),
    );
    await assert.rejects(connect('./never-created', { token: 't' }), (err: unknown) => err instanceof MilvusApiError && err.code === 1100 && /token/.test(err.message));
    assert.equal(fs.existsSync('./never-created'), false, 'nothing was opened');
  });

  it('a server: the same walkthrough over HTTP with the token, and a wrong token refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-connect-server-'));
    const server = await startServerProcess(dir, { MIGRANS_TOKEN: 'secret-token' });
    try {
      const db = await connect(server.url, { token: 'secret-token' });
      await walkthrough(db);
      await db.close();
      const wrong = await connect(server.url, { token: 'wrong' });
      await assert.rejects(wrong.listCollections(), (err: unknown) => err instanceof MilvusApiError && err.code === 1800);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
