/**
 * Fault tests for WAL integrity (invariant 6) on the real server process: a byte flipped inside an
 * acknowledged WAL record, or a WAL that ends before its checkpoint, must stop that collection with
 * a clear error naming the damage, never drop acknowledged rows silently or acknowledge writes that
 * are never applied; `migrans repair` lists the damage and, with --yes, cuts it explicitly, after
 * which the server serves again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileObjectStore } from '../../lib/adapters/local/file-object-store.ts';
import { FileWal } from '../../lib/adapters/local/file-wal.ts';
import { LmdbKvStore } from '../../lib/adapters/local/lmdb-kv-store.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import { CollectionDamagedError } from '../../lib/engine/errors.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { simpleSpec, tempDir } from '../support/engine.ts';
import { call, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIM = 4;
const vector = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i + j));

/** Runs `migrans repair` on `dataDir`; resolves with its exit code and output. */
function runRepair(dataDir: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/migrans.ts', 'repair', '--data-dir', dataDir, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** Creates a one-shard Strong collection and inserts `batches` batches of 10 rows (one WAL record each); returns its WAL channel directory. */
async function fill(server: ServerProcess, dataDir: string, name: string, batches: number, firstId = 0): Promise<string> {
  if (firstId === 0) {
    const created = await call(server.url, 'collections/create', { collectionName: name, dimension: DIM, params: { consistencyLevel: 'Strong', shardsNum: 1 } });
    assert.equal(created.code, 0, JSON.stringify(created));
  }
  for (let b = 0; b < batches; b++) {
    const rows = Array.from({ length: 10 }, (_, k) => ({ id: firstId + b * 10 + k, vector: vector(firstId + b * 10 + k) }));
    const res = await call(server.url, 'entities/insert', { collectionName: name, data: rows });
    assert.equal(res.code, 0, JSON.stringify(res));
  }
  const described = await call(server.url, 'collections/describe', { collectionName: name });
  return path.join(dataDir, 'wal', `c${described.data.collectionID}-0`);
}

/** The ids a collection shows, sorted (Strong). */
async function ids(server: ServerProcess, name: string): Promise<number[]> {
  const page = await call(server.url, 'entities/query', { collectionName: name, filter: 'id >= 0', outputFields: ['id'], limit: 16_384 });
  assert.equal(page.code, 0, JSON.stringify(page));
  return (page.data as { id: number }[]).map((r) => r.id).sort((a, b) => a - b);
}

/** Flips one payload byte of record `k` of the channel's only segment file (header 14 bytes, frames: length u32, crc u32, payload); returns the file. */
function flipRecord(channelDir: string, k: number): string {
  const names = fs.readdirSync(channelDir).filter((n) => n.endsWith('.wal'));
  assert.equal(names.length, 1);
  const file = path.join(channelDir, names[0]);
  const bytes = fs.readFileSync(file);
  let at = 14;
  for (let i = 0; i < k; i++) at += 8 + bytes.readUInt32LE(at);
  bytes[at + 8 + Math.floor(bytes.readUInt32LE(at) / 2)] ^= 0x10;
  fs.writeFileSync(file, bytes);
  return file;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** An engine on local files whose WAL rolls segments every `segmentBytes` (the embedded server uses 64 MiB). */
async function smallSegmentEngine(dir: string, segmentBytes: number): Promise<EngineDatabase> {
  return EngineDatabase.open({
    kv: await LmdbKvStore.open(path.join(dir, 'kv')),
    wal: await FileWal.open(path.join(dir, 'wal'), { segmentBytes }),
    objects: new FileObjectStore(path.join(dir, 'objects')),
    vectorIndexes: new UsearchIndexFactory(),
    localFiles: new FolderLocalFiles(path.join(dir, 'cache')),
  });
}

describe('WAL damage', () => {
  it('a byte flipped mid-WAL stops that collection with a clear error; repair --yes cuts it explicitly and the server serves again', async () => {
    const tmp = tempDir();
    let server = await startServerProcess(tmp.dir);
    try {
      const channel = await fill(server, tmp.dir, 'hurt', 30);
      await fill(server, tmp.dir, 'fine', 5);
      await server.stop();
      const file = flipRecord(channel, 15);

      server = await startServerProcess(tmp.dir);
      const insert = await call(server.url, 'entities/insert', { collectionName: 'hurt', data: [{ id: 9999, vector: vector(9999) }] });
      assert.notEqual(insert.code, 0, 'a write to the damaged channel is refused, not acknowledged');
      assert.match(insert.message!, new RegExp(`damaged at byte \\d+ of ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*migrans repair`));
      const query = await call(server.url, 'entities/query', { collectionName: 'hurt', filter: 'id >= 0', outputFields: ['id'] });
      assert.notEqual(query.code, 0, 'a Strong read does not serve the rows before the damage as if they were all');
      assert.match(query.message!, /damaged/);
      assert.deepEqual(await ids(server, 'fine'), range(50), 'the other collection is untouched');
      await server.stop();

      const before = fs.readFileSync(file);
      const listed = await runRepair(tmp.dir);
      assert.equal(listed.code, 1, listed.out);
      assert.match(listed.out, new RegExp(`collection hurt.*damaged at byte \\d+ of .*${path.basename(file)}`));
      assert.match(listed.out, /loses the damaged record and \d+ intact acknowledged record\(s\)/);
      assert.deepEqual(fs.readFileSync(file), before, 'listing changes nothing');
      const repaired = await runRepair(tmp.dir, '--yes');
      assert.equal(repaired.code, 0, repaired.out);
      assert.match(repaired.out, /done: cut/);

      server = await startServerProcess(tmp.dir);
      const kept = await ids(server, 'hurt');
      assert.deepEqual(kept, range(150), 'exactly the 15 records before the damage remain, as the repair said');
      await fill(server, tmp.dir, 'hurt', 5, 1000);
      // Keys whose records the cut removed are new again: inserting them must not touch the rows written since.
      const again = await call(server.url, 'entities/insert', { collectionName: 'hurt', data: range(10, 150).map((id) => ({ id, vector: vector(id) })) });
      assert.equal(again.code, 0, JSON.stringify(again));
      const expected = [...range(160), ...range(50, 1000)];
      assert.deepEqual(await ids(server, 'hurt'), expected, 'new writes are applied, each key once');
      const got = await call(server.url, 'entities/get', { collectionName: 'hurt', id: [150, 1000], outputFields: ['id'] });
      assert.deepEqual(
        (got.data as { id: number }[]).map((r) => r.id).sort((a, b) => a - b),
        [150, 1000],
      );
      await server.stop();
      server = await startServerProcess(tmp.dir);
      assert.deepEqual(await ids(server, 'hurt'), expected, 'and survive a restart');
    } finally {
      await server.stop();
      tmp.cleanup();
    }
  });

  it('damage below the checkpoint is refused, and repair keeps every acknowledged row', async () => {
    const tmp = tempDir();
    let server = await startServerProcess(tmp.dir);
    try {
      const channel = await fill(server, tmp.dir, 'c', 30);
      const flushed = await call(server.url, 'collections/flush', { collectionName: 'c' });
      assert.equal(flushed.code, 0, JSON.stringify(flushed));
      await fill(server, tmp.dir, 'c', 20, 300);
      await server.stop();
      flipRecord(channel, 12); // one of the first 30 records: applied and flushed, below the checkpoint

      server = await startServerProcess(tmp.dir);
      const insert = await call(server.url, 'entities/insert', { collectionName: 'c', data: [{ id: 9999, vector: vector(9999) }] });
      assert.notEqual(insert.code, 0, JSON.stringify(insert));
      assert.match(insert.message!, /damaged/);
      await server.stop();

      const repaired = await runRepair(tmp.dir, '--yes');
      assert.equal(repaired.code, 0, repaired.out);
      assert.match(repaired.out, /nothing acknowledged is lost/);

      server = await startServerProcess(tmp.dir);
      assert.deepEqual(await ids(server, 'c'), range(500), 'every acknowledged row, once');
      await fill(server, tmp.dir, 'c', 2, 2000);
      assert.deepEqual(await ids(server, 'c'), [...range(500), ...range(20, 2000)]);
    } finally {
      await server.stop();
      tmp.cleanup();
    }
  });

  it('a byte flipped in an earlier WAL segment is found by the replay and refuses the collection, naming file and offset', async () => {
    const tmp = tempDir();
    try {
      let db = await smallSegmentEngine(tmp.dir, 2048);
      await db.createCollection('default', simpleSpec('c', 4));
      for (let b = 0; b < 20; b++) {
        await db.insert(
          'default',
          'c',
          range(10, b * 10).map((id) => ({ id, vector: vector(id) })),
          { upsert: false },
        );
      }
      const channel = path.join(tmp.dir, 'wal', fs.readdirSync(path.join(tmp.dir, 'wal'))[0]);
      await db.close();
      const names = fs
        .readdirSync(channel)
        .filter((n) => n.endsWith('.wal'))
        .sort();
      assert.ok(names.length >= 3, `several segments: ${names}`);
      const first = path.join(channel, names[0]);
      const bytes = fs.readFileSync(first);
      bytes[14 + 8 + 20] ^= 0x01; // a payload byte of the first record, in a sealed segment (the open scans only the last)
      fs.writeFileSync(first, bytes);

      db = await smallSegmentEngine(tmp.dir, 2048);
      const err = await db.insert('default', 'c', [{ id: 9999, vector: vector(9999) }], { upsert: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof CollectionDamagedError, `refused as damaged, got ${String(err)}`);
      assert.match(err.message, new RegExp(`damaged at byte 14 of ${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await db.close();
    } finally {
      tmp.cleanup();
    }
  });

  it('a WAL that ends before its checkpoint is refused: no write is acknowledged that would never be applied', async () => {
    const tmp = tempDir();
    let server = await startServerProcess(tmp.dir);
    try {
      const channel = await fill(server, tmp.dir, 'c', 10);
      const flushed = await call(server.url, 'collections/flush', { collectionName: 'c' });
      assert.equal(flushed.code, 0, JSON.stringify(flushed));
      await server.stop();
      for (const n of fs.readdirSync(channel)) fs.rmSync(path.join(channel, n)); // the log is lost; the checkpoint says 11 records were applied

      server = await startServerProcess(tmp.dir);
      const insert = await call(server.url, 'entities/insert', { collectionName: 'c', data: [{ id: 9999, vector: vector(9999) }] });
      assert.notEqual(insert.code, 0, JSON.stringify(insert));
      assert.match(insert.message!, /collection c is damaged.*WAL channel c\d+-0 ends at position 0, but its checkpoint needs it to reach position [1-9]\d*/);
      const query = await call(server.url, 'entities/query', { collectionName: 'c', filter: 'id >= 0', outputFields: ['id'] });
      assert.notEqual(query.code, 0, JSON.stringify(query));
      // The way out the error names: the collection can be dropped and created again.
      assert.equal((await call(server.url, 'collections/drop', { collectionName: 'c' })).code, 0);
      await fill(server, tmp.dir, 'c', 1);
      assert.deepEqual(await ids(server, 'c'), range(10));
    } finally {
      await server.stop();
      tmp.cleanup();
    }
  });
});
