import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeWalRecord, encodeWalRecord, type WalRecordBody } from '../../lib/engine/codec/wal-record-codec.ts';
import { CorruptDataError } from '../../lib/engine/errors.ts';
import type { InsertBatch } from '../../lib/engine/schema/batch.ts';
import type { CollectionSchema } from '../../lib/engine/schema/types.ts';
import { field } from '../support/data.ts';

/** A field with defaults for the flags these tests do not care about. */
const schema: CollectionSchema = {
  enableDynamicField: true,
  fields: [
    field(100, 'id', 'Int64', { isPrimary: true }),
    field(101, 'vec', 'FloatVector', { dim: 4 }),
    field(102, 'title', 'VarChar', { maxLength: 64, nullable: true }),
    field(103, 'tags', 'Array', { elementType: 'VarChar', maxCapacity: 8 }),
    field(104, 'doc', 'JSON', { nullable: true }),
    field(105, 'score', 'Double'),
  ],
};
const strSchema: CollectionSchema = {
  enableDynamicField: false,
  fields: [field(100, 'pk', 'VarChar', { isPrimary: true, maxLength: 100 }), field(101, 'v', 'FloatVector', { dim: 2 })],
};

function batch(): InsertBatch {
  return {
    rowCount: 3,
    columns: new Map<string, any[]>([
      ['id', [1n, -(1n << 63n), (1n << 63n) - 1n]],
      ['vec', [Float32Array.of(1, 2, 3, 4), Float32Array.of(0, 0, 0, 0), Float32Array.of(-1, 0.5, 0.25, 9)]],
      ['title', ['héllo', null, '']],
      ['tags', [['a', 'b'], [], ['ü']]],
      ['doc', [{ k: [1, 2] }, null, { big: 18446744073709551615n }]],
      ['score', [0.5, 1, -2]],
    ]),
    dynamic: [{ extra: 1 }, null, { color: 'red', n: [true] }],
  };
}

describe('WAL record codec round trips', () => {
  it('insert with every column kind and $meta', () => {
    const rec: WalRecordBody = { kind: 'insert', ts: 445_644_800_000_000_123n, collectionId: 42, partition: '_default', upsert: false, batch: batch() };
    const out = decodeWalRecord(encodeWalRecord(rec, schema), schema);
    assert.deepEqual(out, rec);
  });
  it('upsert flag and unicode partition', () => {
    const rec: WalRecordBody = { kind: 'insert', ts: 1n, collectionId: Number.MAX_SAFE_INTEGER, partition: 'párt-😀', upsert: true, batch: { ...batch(), dynamic: null } };
    assert.deepEqual(decodeWalRecord(encodeWalRecord(rec, schema), schema), rec);
  });
  it('empty insert batch', () => {
    const rec: WalRecordBody = {
      kind: 'insert',
      ts: 5n,
      collectionId: 1,
      partition: 'p',
      upsert: false,
      batch: {
        rowCount: 0,
        columns: new Map([
          ['id', []],
          ['vec', []],
        ]),
        dynamic: null,
      },
    };
    assert.deepEqual(decodeWalRecord(encodeWalRecord(rec, schema), schema), rec);
  });
  it('delete of Int64 and VarChar keys', () => {
    const del: WalRecordBody = { kind: 'delete', ts: (1n << 64n) - 1n, collectionId: 7, partition: '_default', pks: [1n, 2n, -(1n << 63n)] };
    assert.deepEqual(decodeWalRecord(encodeWalRecord(del, schema), schema), del);
    const sdel: WalRecordBody = { kind: 'delete', ts: 9n, collectionId: 8, partition: '', pks: ['a', 'ß', ''] };
    assert.deepEqual(decodeWalRecord(encodeWalRecord(sdel, strSchema), strSchema), sdel);
  });
  it('flush', () => {
    const f: WalRecordBody = { kind: 'flush', ts: 123n, collectionId: 3 };
    const bytes = encodeWalRecord(f, schema);
    assert.equal(bytes.length, 24);
    assert.deepEqual(decodeWalRecord(bytes, schema), f);
  });
  it('decodes from an unaligned copy', () => {
    const rec: WalRecordBody = { kind: 'insert', ts: 2n, collectionId: 1, partition: 'x', upsert: false, batch: batch() };
    const bytes = encodeWalRecord(rec, schema);
    const host = new Uint8Array(bytes.length + 1);
    host.set(bytes, 1);
    assert.deepEqual(decodeWalRecord(host.subarray(1), schema), rec);
  });
  it('decodes from an unaligned Buffer (whose slice() is a view, not a copy)', () => {
    const rec: WalRecordBody = { kind: 'insert', ts: 2n, collectionId: 1, partition: 'x', upsert: false, batch: batch() };
    const bytes = encodeWalRecord(rec, schema);
    const host = Buffer.alloc(bytes.length + 3);
    host.set(bytes, 3);
    assert.deepEqual(decodeWalRecord(host.subarray(3), schema), rec);
  });
});

describe('WAL record codec rejects bad input', () => {
  const rec: WalRecordBody = { kind: 'insert', ts: 2n, collectionId: 1, partition: 'x', upsert: false, batch: batch() };
  const good = encodeWalRecord(rec, schema);
  const corrupt = (re: RegExp) => (e: unknown) => e instanceof CorruptDataError && re.test((e as Error).message);

  it('bad magic, version, kind', () => {
    const a = good.slice();
    a[1] = 0;
    assert.throws(() => decodeWalRecord(a, schema), corrupt(/magic/));
    const b = good.slice();
    new DataView(b.buffer).setUint16(4, 2, true);
    assert.throws(() => decodeWalRecord(b, schema), corrupt(/version 2/));
    const c = good.slice();
    c[6] = 9;
    assert.throws(() => decodeWalRecord(c, schema), corrupt(/kind 9/));
  });
  it('every truncation', () => {
    const del = encodeWalRecord({ kind: 'delete', ts: 1n, collectionId: 1, partition: 'p', pks: [1n, 2n] }, schema);
    const flush = encodeWalRecord({ kind: 'flush', ts: 1n, collectionId: 1 }, schema);
    for (const bytes of [good, del, flush]) {
      for (let len = 0; len < bytes.length; len++) {
        assert.throws(() => decodeWalRecord(bytes.subarray(0, len), schema), CorruptDataError, `length ${len} of ${bytes.length}`);
      }
    }
  });
  it('trailing bytes', () => {
    const b = new Uint8Array(good.length + 8);
    b.set(good);
    assert.throws(() => decodeWalRecord(b, schema), corrupt(/end at/));
  });
  it('a record that does not fit the schema', () => {
    const other: CollectionSchema = { ...schema, fields: schema.fields.map((f) => (f.name === 'vec' ? { ...f, dim: 8 } : f)) };
    assert.throws(() => decodeWalRecord(good, other), corrupt(/dim 4 but the schema declares 8/));
    const noDyn: CollectionSchema = { ...schema, enableDynamicField: false };
    assert.throws(() => decodeWalRecord(good, noDyn), corrupt(/dynamic/));
    const del = encodeWalRecord({ kind: 'delete', ts: 1n, collectionId: 1, partition: 'p', pks: [1n] }, schema);
    assert.throws(() => decodeWalRecord(del, strSchema), corrupt(/Int64 but the schema's primary key 'pk' is VarChar/));
  });
  it('encode-side errors name the problem', () => {
    const bad = batch();
    bad.columns.set('nope', [1, 2, 3]);
    assert.throws(() => encodeWalRecord({ ...rec, batch: bad }, schema), /'nope' is not a field/);
    const short = batch();
    short.columns.set('score', [1]);
    assert.throws(() => encodeWalRecord({ ...rec, batch: short }, schema), /has 1 values but the batch has 3 rows/);
    assert.throws(() => encodeWalRecord({ ...rec, ts: -1n }, schema), /ts must be/);
    assert.throws(() => encodeWalRecord({ ...rec, collectionId: 1.5 }, schema), /collectionId/);
    assert.throws(() => encodeWalRecord(rec, { ...schema, enableDynamicField: false }), /no dynamic field/);
  });
});
