/**
 * Fault tests for DDL races and interrupted drops (issue 10 item 8): a name is a collection or an
 * alias, never both, however creates of each race; a drop interrupted after it was recorded is
 * finished by the next open, leaving none of the collection's files behind.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FileObjectStore } from '../../lib/adapters/local/file-object-store.ts';
import { FileWal } from '../../lib/adapters/local/file-wal.ts';
import { LmdbKvStore } from '../../lib/adapters/local/lmdb-kv-store.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { fileDatabase, simpleSpec, tempDir } from '../support/engine.ts';
import { call, startServerProcess } from '../support/server-process.ts';
import { FaultyObjectStore } from '../support/store-faults.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const D = 'default';

test('collections/create X racing aliases/create X leaves X a collection or an alias, never both', async () => {
  const { db, cleanup } = await fileDatabase();
  try {
    await db.createCollection(D, simpleSpec('target', 2));
    for (let i = 0; i < 20; i++) {
      const name = `x${i}`;
      // The alias request arrives while the create waits on storage (after 0..3 event-loop turns).
      const create = db.createCollection(D, simpleSpec(name, 2));
      for (let t = 0; t < i % 4; t++) await new Promise((r) => setImmediate(r));
      const alias = db.createAlias(D, 'target', name);
      const [a, b] = await Promise.allSettled([create, alias]);
      assert.equal([a, b].filter((r) => r.status === 'fulfilled').length, 1, `exactly one of the two creates of ${name} succeeds`);
      const isCollection = (await db.listCollections(D)).includes(name);
      const isAlias = (await db.listAliases(D)).includes(name);
      assert.notEqual(isCollection, isAlias, `${name} is a collection (${isCollection}) or an alias (${isAlias}), not both`);
    }
  } finally {
    await cleanup();
  }
});

test('a collection drop interrupted after it was recorded is finished on the next open: no files stay behind', async () => {
  const tmp = tempDir();
  const open = async (objects: FileObjectStore | FaultyObjectStore) =>
    EngineDatabase.open({
      kv: await LmdbKvStore.open(path.join(tmp.dir, 'kv')),
      wal: await FileWal.open(path.join(tmp.dir, 'wal')),
      objects,
      vectorIndexes: new UsearchIndexFactory(),
      localFiles: new FolderLocalFiles(path.join(tmp.dir, 'cache')),
    });
  const objects = new FaultyObjectStore(new FileObjectStore(path.join(tmp.dir, 'objects')));
  const db = await open(objects);
  await db.createCollection(D, simpleSpec('gone', 2));
  await db.createCollection(D, simpleSpec('kept', 2));
  for (const name of ['gone', 'kept']) {
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
  const id = db.runtimeOf('gone').info.collectionId;
  const files = () => [`objects/insert_log/${id}`, `wal/c${id}-0`].filter((p) => fs.existsSync(path.join(tmp.dir, p)));
  assert.deepEqual(files(), [`objects/insert_log/${id}`, `wal/c${id}-0`], 'the collection has data files before the drop');

  objects.failDeletes = true; // the process "dies" while deleting the objects
  await assert.rejects(db.dropCollection(D, 'gone'), /injected crash/);
  assert.deepEqual(await db.listCollections(D), ['kept'], 'a recorded drop is no longer listed');
  await db.close();
  assert.deepEqual(files(), [`objects/insert_log/${id}`], 'the interrupted drop left objects behind');

  const { db: reopened } = await fileDatabase({}, tmp.dir);
  try {
    assert.deepEqual(files(), [], 'the next open finished the drop');
    assert.deepEqual(await reopened.listCollections(D), ['kept']);
    assert.equal((await reopened.get(D, 'kept', [1n, 2n], {})).length, 2, 'the other collection keeps every acknowledged row');
    await reopened.createCollection(D, simpleSpec('gone', 2));
    assert.deepEqual(await reopened.get(D, 'gone', [1n], {}), [], 'a new collection of the dropped name starts empty');
  } finally {
    await reopened.close();
    tmp.cleanup();
  }
});

test('a server killed with SIGKILL right after collections/drop leaves no files of the collection after its restart', { timeout: 120_000 }, async () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  try {
    for (const delayMs of [5, 20, 40]) {
      const name = `d${delayMs}`;
      server = await startServerProcess(tmp.dir);
      assert.equal((await call(server.url, 'collections/create', { collectionName: name, dimension: 2 })).code, 0);
      assert.equal((await call(server.url, 'entities/insert', { collectionName: name, data: [{ id: 1, vector: [1, 0] }] })).code, 0);
      assert.equal((await call(server.url, 'collections/flush', { collectionName: name })).code, 0);
      const id = (await call(server.url, 'collections/describe', { collectionName: name })).data.collectionID as number;
      const files = () =>
        [`objects/insert_log/${id}`, `wal/c${id}-0`].filter((p) => fs.existsSync(path.join(tmp.dir, p)) && fs.readdirSync(path.join(tmp.dir, p), { recursive: true }).length > 0);
      void call(server.url, 'collections/drop', { collectionName: name }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, delayMs));
      await server.kill();
      server = await startServerProcess(tmp.dir);
      const listed = ((await call(server.url, 'collections/list', {})).data as string[]).includes(name);
      // Killed before the drop was recorded, the collection is all there; after, none of it is.
      if (!listed) assert.deepEqual(files(), [], `files of the dropped ${name} (killed ${delayMs} ms after the drop)`);
      else assert.equal((await call(server.url, 'entities/get', { collectionName: name, id: [1] })).data.length, 1);
      await server.stop();
      server = undefined;
    }
  } finally {
    await server?.kill(); // a failed assertion must not leave a server holding the runner open
    tmp.cleanup();
  }
});
