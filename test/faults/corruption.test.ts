/**
 * Fault test of the checksums on every persistent format (issue 10, item 3): on the embedded engine,
 * one collection is written, flushed, indexed and has deletes in delta logs; then, for each kind of
 * persistent object (column chunks of every field, delta logs, index files, catalog entries, PK-index
 * entries), a copy of the data directory gets one flipped byte in one object and is reopened and read
 * in full. Every case must end in exactly the acknowledged rows (each once, with their vectors and
 * values) or in a CorruptDataError naming the damaged object — never a duplicate id, a wrong vector,
 * a wrong value or a missing row. A damaged index file is the one object the engine repairs: it is
 * dropped at open (logged with its name) and rebuilt from the verified vectors, which the test checks. A one-line summary of cases and outcomes goes to the diagnostics.
 * A second test rewrites the directory in the formats written before checksums and reopens it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LmdbKvStore } from '../../lib/adapters/local/lmdb-kv-store.ts';
import { INDEX_FOOTER_BYTES } from '../../lib/adapters/vector/index-file-checksum.ts';
import { decodeJson } from '../../lib/engine/catalog/json-codec.ts';
import { CollectionDamagedError, CorruptDataError } from '../../lib/engine/errors.ts';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { encodePk } from '../../lib/engine/pk-index.ts';
import { clusteredVectors, fileDatabase, simpleSpec, tempDir, waitIndexed } from '../support/engine.ts';

const D = 'default';
const DIM = 8;
const ROWS = 500;
/** Ids below this are deleted after the flush (so delta logs exist). */
const DELETED_BELOW = 20;
const CONFIG = { sealRows: 200, compactionIntervalMs: 0 };
const vectors = clusteredVectors(ROWS, DIM, 7);
const tagOf = (i: number) => `tag-${i}`;

/** One damaged object: where it lives and how its byte gets flipped. */
interface Case {
  kind: string;
  /** The object key, KV key or file that errors must name. */
  name: string;
  damage(dir: string): Promise<void>;
  /** For damage the engine repairs itself (index files are rebuilt): proves the damaged object is not in use. */
  notInUse?(db: EngineDatabase): void;
}

type Outcome = 'refused at open' | 'refused on read' | 'collection marked damaged' | 'served correctly' | 'dropped and rebuilt' | 'WRONG';

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** Flips the bits of `mask` in byte `at` (negative: from the end) of a file. */
function flipFileByte(file: string, at: number, mask = 0x10): void {
  const bytes = fs.readFileSync(file);
  bytes[at < 0 ? bytes.length + at : at] ^= mask;
  fs.writeFileSync(file, bytes);
}

/** Flips a byte of a KV value through the KvStore port (a versioned PK entry keeps its version). */
async function flipKvByte(dir: string, key: string, at: number, versioned: boolean): Promise<void> {
  const kv = await LmdbKvStore.open(path.join(dir, 'kv'));
  try {
    if (versioned) {
      const [entry] = await kv.batchGetVersioned([key]);
      assert.ok(entry, `no KV entry ${key}`);
      const value = entry.value.slice();
      value[at < 0 ? value.length + at : at] ^= 0x10;
      await kv.delete(key); // so the damaged value can be stored under the same version
      await kv.batchPutIfNewer([{ key, value, version: entry.version }]);
    } else {
      const stored = await kv.get(key);
      assert.ok(stored, `no KV entry ${key}`);
      const value = stored.slice();
      value[at < 0 ? value.length + at : at] ^= 0x10;
      await kv.put(key, value);
    }
  } finally {
    await kv.close();
  }
}

/** A version-2 column chunk rewritten in format 1 (16-byte header, no checksums), as builds before checksums wrote it. */
function chunkAsVersion1(v2: Uint8Array): Uint8Array {
  const blocks = new DataView(v2.buffer, v2.byteOffset).getUint32(20, true);
  const body = v2.subarray((32 + 4 * blocks + 7) & ~7);
  const out = new Uint8Array(16 + body.length);
  out.set(v2.subarray(0, 16));
  new DataView(out.buffer).setUint16(4, 1, true);
  out.set(body, 16);
  return out;
}

/** A version-2 delta log rewritten in format 1 (no CRC: the offsets follow the count). */
function deltaAsVersion1(v2: Uint8Array): Uint8Array {
  const out = new Uint8Array(v2.length - 4);
  out.set(v2.subarray(0, 12));
  new DataView(out.buffer).setUint16(4, 1, true);
  out.set(v2.subarray(16), 12);
  return out;
}

/** Rewrites a whole data directory in the formats before checksums (catalog format 1). */
async function rewriteAsVersion1(dir: string, collectionId: number): Promise<void> {
  const objects = path.join(dir, 'objects');
  for (const key of filesUnder(objects)) {
    const file = path.join(objects, key);
    const bytes = fs.readFileSync(file);
    if (key.startsWith('insert_log/')) fs.writeFileSync(file, chunkAsVersion1(bytes));
    else if (key.startsWith('delta_log/')) fs.writeFileSync(file, deltaAsVersion1(bytes));
    else if (key.startsWith('index_files/')) fs.writeFileSync(file, bytes.subarray(0, bytes.length - INDEX_FOOTER_BYTES));
  }
  const kv = await LmdbKvStore.open(path.join(dir, 'kv'));
  try {
    const plain: { key: string; value: Uint8Array }[] = [];
    for await (const e of kv.scan({ prefix: 'meta/' })) {
      if (String.fromCharCode(...e.value.subarray(0, 4)) === 'MGJS') plain.push({ key: e.key, value: e.value.slice(12) });
    }
    plain.push({ key: 'meta/format', value: Buffer.from('1') });
    await kv.batchPut(plain);
    const keys = Array.from({ length: ROWS }, (_, i) => `pk/${String(collectionId).padStart(12, '0')}/${encodePk(BigInt(i))}`);
    const entries = await kv.batchGetVersioned(keys);
    for (let i = 0; i < keys.length; i++) {
      await kv.delete(keys[i]);
      await kv.batchPutIfNewer([{ key: keys[i], value: entries[i]!.value.slice(0, 25), version: entries[i]!.version }]);
    }
  } finally {
    await kv.close();
  }
}

/** Reads everything back and checks it is exactly the acknowledged rows. */
async function readAll(db: EngineDatabase): Promise<void> {
  const live = ROWS - DELETED_BELOW;
  const [countRow] = await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] });
  assert.equal(countRow['count(*)'], live, 'count(*)');
  const rows = await db.query(D, 'c', { filter: 'id >= 0', outputFields: ['id', 'tag'], limit: ROWS });
  assert.equal(rows.length, live, 'query returns every live row');
  const ids = new Set(rows.map((r) => Number(r.id)));
  assert.equal(ids.size, live, 'no duplicate id');
  for (const r of rows) {
    const i = Number(r.id);
    assert.ok(i >= DELETED_BELOW && i < ROWS, `id ${i} is live`);
    assert.equal(r.tag, tagOf(i), `tag of ${i}`);
  }
  const got = await db.get(
    D,
    'c',
    Array.from({ length: ROWS }, (_, i) => BigInt(i)),
    { outputFields: ['vector', 'tag'] },
  );
  assert.equal(got.length, live, 'get returns every live row');
  for (const r of got) {
    const i = Number(r.id);
    assert.deepEqual(Array.from(r.vector as Float32Array), Array.from(vectors[i]), `vector of ${i}`);
    assert.equal(r.tag, tagOf(i));
  }
  for (const i of [25, 180, 260, 420, 499]) {
    const [hits] = await db.search(D, 'c', { vectors: [vectors[i]], limit: 3 });
    assert.equal(Number(hits[0].id), i, `search for row ${i}'s own vector finds it first`);
  }
}

/** True when `err` is a CorruptDataError naming `name`. */
/** A CorruptDataError naming the object, or the refusal of a collection it made damaged at open. */
function namesObject(err: unknown, name: string): boolean {
  const found = err instanceof CollectionDamagedError ? err.cause : err;
  return found instanceof CorruptDataError && found.message.includes(name);
}

/** Whether the database lists the collection whose catalog entry `key` is damaged, with a reason naming the key. */
async function unreadableEntryListed(db: EngineDatabase, key: string): Promise<boolean> {
  const name = `damaged_collection_${Number(key.slice('meta/collection/'.length))}`;
  if (!(await db.listCollections('default')).includes(name)) return false;
  return (await db.describeCollection('default', name)).loadFailure?.includes(key) ?? false;
}

describe('a flipped byte in any persistent object is refused with its name, never served', () => {
  const template = tempDir('migrans-corrupt-');
  const cases: Case[] = [];
  let collectionId = 0;
  const outcomes = new Map<string, number>();
  const problems: string[] = [];

  before(async () => {
    const { db } = await fileDatabase(CONFIG, template.dir);
    await db.createCollection(D, simpleSpec('c', DIM, { extraFields: [{ name: 'tag', dataType: 'VarChar', maxLength: 32, typeParams: { max_length: '32' } }] }));
    for (let b = 0; b < ROWS; b += 100) {
      await db.insert(
        D,
        'c',
        vectors.slice(b, b + 100).map((v, k) => ({ id: b + k, vector: Array.from(v), tag: tagOf(b + k) })),
        { upsert: false },
      );
    }
    await db.flush(D, 'c');
    await waitIndexed(db);
    await db.delete(D, 'c', `id < ${DELETED_BELOW}`, {});
    await db.flush(D, 'c');
    await readAll(db);
    collectionId = db.runtimeOf('c').info.collectionId;
    await db.close();

    const objects = path.join(template.dir, 'objects');
    const files = filesUnder(objects);
    const segment = files
      .find((f) => f.startsWith('insert_log/'))!
      .split('/')
      .slice(0, 4)
      .join('/');
    const fileCase = (kind: string, key: string, at: number) => cases.push({ kind, name: key, damage: async (dir) => flipFileByte(path.join(dir, 'objects', key), at) });
    // Column chunks of one segment: header, block table, body start, middle, last byte.
    for (const [kind, field] of [
      ['pk chunk', 100],
      ['vector chunk', 101],
      ['scalar chunk', 102],
      ['timestamp chunk', 1],
    ] as const) {
      const key = `${segment}/${field}/1`;
      assert.ok(files.includes(key), `${key} exists`);
      const size = fs.statSync(path.join(objects, key)).size;
      for (const at of [6, 33, 48, Math.floor(size / 2), -1]) fileCase(kind, key, at);
    }
    const deltas = files.filter((f) => f.startsWith('delta_log/'));
    assert.ok(deltas.length > 0, 'delta logs were written');
    for (const key of deltas) for (const at of [5, 13, -1]) fileCase('delta log', key, at);
    const indexes = files.filter((f) => f.startsWith('index_files/'));
    assert.ok(indexes.length > 0, 'index files were written');
    for (const at of [4, 200, -100, -10, -1]) {
      const key = indexes[0];
      cases.push({
        kind: 'index file',
        name: key,
        damage: async (dir) => flipFileByte(path.join(dir, 'objects', key), at),
        notInUse: (db) => {
          for (const seg of db.runtimeOf('c').segments.values()) assert.notEqual(seg.meta.indexFiles.vector, key, 'the damaged index file is not attached');
        },
      });
    }
    // Catalog entries and PK-index entries in the KV.
    const kv = await LmdbKvStore.open(path.join(template.dir, 'kv'));
    const metaKeys: string[] = [];
    for await (const e of kv.scan({ prefix: 'meta/' })) metaKeys.push(e.key);
    await kv.close();
    const catalogKeys = [
      'meta/format',
      metaKeys.find((k) => k.startsWith('meta/collection/'))!,
      metaKeys.find((k) => k.startsWith('meta/segment/'))!,
      metaKeys.find((k) => k.startsWith('meta/checkpoint/'))!,
    ];
    for (const key of catalogKeys) {
      for (const at of [1, 9, -2]) cases.push({ kind: 'catalog entry', name: key, damage: (dir) => flipKvByte(dir, key, at, false) });
    }
    const pkKey = `pk/${String(collectionId).padStart(12, '0')}/${encodePk(300n)}`;
    for (const at of [1, 10, -1]) cases.push({ kind: 'PK-index entry', name: pkKey, damage: (dir) => flipKvByte(dir, pkKey, at, true) });
  });

  after(() => {
    const summary = [...outcomes].map(([k, n]) => `${k}: ${n}`).join(', ');
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    const line = `corruption: ${total} cases, ${summary}; ${problems.length} wrong answers or unnamed errors`;
    console.log(`# ${line}`);
    template.cleanup();
  });

  it('every case ends in the acknowledged rows exactly or a CorruptDataError naming the object', async () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
    for (const c of cases) {
      const copy = tempDir('migrans-corrupt-case-');
      fs.cpSync(template.dir, copy.dir, { recursive: true });
      await c.damage(copy.dir);
      let outcome: Outcome = 'WRONG';
      let db: EngineDatabase | undefined;
      try {
        db = (await fileDatabase(CONFIG, copy.dir)).db;
      } catch (err) {
        if (namesObject(err, c.name)) outcome = 'refused at open';
        else problems.push(`${c.kind} ${c.name}: open failed with an error that does not name it: ${(err as Error).message}`);
      }
      if (db) {
        try {
          c.notInUse?.(db);
          await readAll(db);
          outcome = c.notInUse ? 'dropped and rebuilt' : 'served correctly';
        } catch (err) {
          if (err instanceof assert.AssertionError) problems.push(`${c.kind} ${c.name}: a wrong answer: ${err.message}`);
          else if (err instanceof CollectionDamagedError && namesObject(err, c.name)) outcome = 'collection marked damaged';
          else if (namesObject(err, c.name)) outcome = 'refused on read';
          else if (c.name.startsWith('meta/collection/') && (await unreadableEntryListed(db, c.name))) outcome = 'collection marked damaged';
          else problems.push(`${c.kind} ${c.name}: a read failed with an error that does not name it: ${(err as Error).message}`);
        }
        await db.close();
      }
      const label = `${c.kind} ${outcome}`;
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      copy.cleanup();
    }
    assert.deepEqual(problems, []);
  });

  it('a data directory written in the formats before checksums opens, reads the same rows and is stamped format 2', async () => {
    const copy = tempDir('migrans-corrupt-v1-');
    fs.cpSync(template.dir, copy.dir, { recursive: true });
    await rewriteAsVersion1(copy.dir, collectionId);
    const { db } = await fileDatabase(CONFIG, copy.dir);
    await readAll(db);
    await db.close();
    const kv = await LmdbKvStore.open(path.join(copy.dir, 'kv'));
    assert.equal(decodeJson<number>((await kv.get('meta/format'))!), 2);
    await kv.close();
    copy.cleanup();
  });
});
