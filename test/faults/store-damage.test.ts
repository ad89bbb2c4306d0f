/**
 * Fault tests for damaged files at startup (issue 10 item 4): a damaged collection is reported
 * (describe, get_load_state, a refusal naming the damage on reads and writes) while every other
 * collection is served; a truncated LMDB file stops the server with a clear message naming the file
 * instead of a SIGBUS. The damage is also logged as an error line naming the collection.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LmdbKvStore } from '../../lib/adapters/local/lmdb-kv-store.ts';
import { MemoryLogger } from '../../lib/adapters/memory/memory-logger.ts';
import { handleRequest } from '../../lib/api/router.ts';
import type { Database } from '../../lib/engine/database.ts';
import { ErrorCode, milvusCode } from '../../lib/api/error-codes.ts';
import { CollectionDamagedError, CorruptDataError } from '../../lib/engine/errors.ts';
import { openEmbeddedDatabase } from '../../lib/embedded.ts';
import { fileDatabase, simpleSpec, tempDir } from '../support/engine.ts';

const D = 'default';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One REST v2 call through the router, parsed. */
async function rest(db: Database, route: string, body: unknown): Promise<{ code: number; message?: string; data?: any }> {
  const res = await handleRequest(db, { method: 'POST', path: `/v2/vectordb/${route}`, headers: {}, body: JSON.stringify(body) });
  return JSON.parse(res.body);
}

/** A data directory with collections `bad` and `good`, two flushed rows each; returns the directory and bad's id. */
async function twoCollections(): Promise<{ dir: string; badId: number }> {
  const { db, dir } = await fileDatabase();
  for (const name of ['bad', 'good']) {
    await db.createCollection(D, simpleSpec(name, 2));
    await db.insert(
      D,
      name,
      [
        { id: 1, vector: [1, 0] },
        { id: 2, vector: [0, 1] },
      ],
      { upsert: false },
    );
    await db.flush(D, name);
  }
  const badId = db.runtimeOf('bad').info.collectionId;
  await db.close();
  return { dir, badId };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

test('a collection with a damaged segment file is reported and refused while the others are served', async () => {
  const { dir, badId } = await twoCollections();
  const chunks = filesUnder(path.join(dir, 'objects', 'insert_log', String(badId)));
  assert.ok(chunks.length > 0);
  fs.rmSync(chunks[0]); // one chunk of bad's segment is gone

  const { db } = await fileDatabase({}, dir);
  try {
    assert.deepEqual(await db.listCollections(D), ['bad', 'good'], 'the damaged collection stays listed');
    assert.equal((await db.get(D, 'good', [1n, 2n], {})).length, 2, 'the other collection serves every acknowledged row');

    const described = await rest(db, 'collections/describe', { collectionName: 'bad' });
    assert.equal(described.code, 0);
    assert.equal(described.data.load, 'LoadStateNotLoad');
    assert.match(described.data.loadFailure, /damaged/);
    assert.ok(
      described.data.loadFailure.includes(path.relative(path.join(dir, 'objects'), chunks[0])) || described.data.loadFailure.includes(chunks[0]),
      `names the missing object: ${described.data.loadFailure}`,
    );
    const state = await rest(db, 'collections/get_load_state', { collectionName: 'bad' });
    assert.equal(state.data.loadState, 'LoadStateNotLoad');
    assert.match(state.message!, /damaged/);

    for (const op of [() => db.get(D, 'bad', [1n], {}), () => db.insert(D, 'bad', [{ id: 3, vector: [1, 1] }], { upsert: false }), () => db.loadCollection(D, 'bad')]) {
      await assert.rejects(
        op(),
        (err: unknown) => err instanceof CollectionDamagedError && milvusCode(err) === ErrorCode.CollectionNotLoaded && /bad is damaged/.test(err.message),
      );
    }
    await assert.rejects(db.createCollection(D, simpleSpec('bad', 2)), /already exists/);

    await db.dropCollection(D, 'bad');
    assert.deepEqual(await db.listCollections(D), ['good']);
    const left = ['insert_log', 'delta_log', 'index_files'].flatMap((k) =>
      fs.existsSync(path.join(dir, 'objects', k, String(badId))) ? filesUnder(path.join(dir, 'objects', k, String(badId))) : [],
    );
    assert.deepEqual(left, [], 'dropping it removes its files');
  } finally {
    await db.close();
  }
});

test('a collection damaged at open is logged once as an error naming the collection and the damage', async () => {
  const { dir, badId } = await twoCollections();
  fs.rmSync(filesUnder(path.join(dir, 'objects', 'insert_log', String(badId)))[0]);

  const logger = new MemoryLogger();
  const db = await openEmbeddedDatabase({ dataDir: dir, logger });
  try {
    const errors = logger.at('error');
    assert.equal(errors.length, 1, `one error line: ${JSON.stringify(logger.entries)}`);
    const [entry] = errors;
    assert.equal(entry.fields.collection, 'bad');
    assert.equal(entry.fields.collectionId, badId);
    assert.match(entry.message, /collection bad .* is damaged and not served/);
    const error = entry.fields.error as { name: string; message: string; stack?: string };
    assert.equal(typeof error.stack, 'string', 'the cause is logged with its stack');
    assert.ok(
      logger.entries.every((e) => e.fields.collection !== 'good'),
      'nothing is logged about the healthy collection',
    );
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a collection whose catalog entry cannot be decoded is listed as damaged and droppable; the others are served', async () => {
  const { dir, badId } = await twoCollections();
  const kv = await LmdbKvStore.open(path.join(dir, 'kv'));
  await kv.put(`meta/collection/${String(badId).padStart(12, '0')}`, new TextEncoder().encode('{"collectionId": 1, "name": "bad", trunc'));
  await kv.close();

  const { db } = await fileDatabase({}, dir);
  try {
    const stand = `damaged_collection_${badId}`;
    assert.deepEqual(await db.listCollections(D), [stand, 'good']);
    assert.equal((await db.get(D, 'good', [1n, 2n], {})).length, 2);
    const described = await rest(db, 'collections/describe', { collectionName: stand });
    assert.match(described.data.loadFailure, /catalog entry meta\/collection\/0+\d+ cannot be read/);
    await db.dropCollection(D, stand);
    assert.deepEqual(await db.listCollections(D), ['good']);
    assert.equal(fs.existsSync(path.join(dir, 'wal', `c${badId}-0`)), false, 'its WAL channel is removed');
  } finally {
    await db.close();
  }
});

test('a server on a truncated LMDB file exits with a message naming the file, not a SIGBUS', { timeout: 60_000 }, async () => {
  const tmp = tempDir();
  const { db } = await fileDatabase({}, tmp.dir);
  await db.createCollection(D, simpleSpec('c', 2));
  await db.insert(
    D,
    'c',
    Array.from({ length: 500 }, (_, i) => ({ id: i, vector: [i, 1] })),
    { upsert: false },
  );
  await db.flush(D, 'c');
  await db.close();
  const file = path.join(tmp.dir, 'kv', 'data.mdb');
  const size = fs.statSync(file).size;
  fs.truncateSync(file, Math.floor(size / 2 / 4096) * 4096); // a copy cut short

  const result = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/migrans.ts', 'serve', '--port', '0', '--data-dir', tmp.dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
  assert.equal(result.signal, null, `killed by ${result.signal}; stderr:\n${result.stderr}`);
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line:\n${result.stderr}`);
  assert.ok(lines[0].includes(file) && /truncated/.test(lines[0]) && /restore/.test(lines[0]), lines[0]);
  tmp.cleanup();
});

test('a data directory whose LMDB file is gone while its WAL and objects remain is refused, not opened empty', async () => {
  const { dir } = await twoCollections();
  fs.rmSync(path.join(dir, 'kv', 'data.mdb'));
  await assert.rejects(
    openEmbeddedDatabase({ dataDir: dir }),
    (err: unknown) => err instanceof CorruptDataError && /data\.mdb is missing or empty/.test(err.message) && /restore/.test(err.message),
  );
  assert.equal(fs.existsSync(path.join(dir, 'LOCK')), false, 'a refused open releases the lock');
});
