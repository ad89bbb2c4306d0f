import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { milvusCode } from '../../lib/api/error-codes.ts';
import { BadInsertDataError } from '../../lib/engine/errors.ts';
import { rowsToBatch } from '../../lib/engine/schema/rows-to-batch.ts';
import type { CollectionSchema, FieldSchema } from '../../lib/engine/schema/types.ts';
import { field } from '../support/data.ts';

function schema(fields: FieldSchema[], enableDynamicField = false): CollectionSchema {
  return { fields, enableDynamicField };
}

const pk = field(100, 'id', 'Int64', { isPrimary: true });
const vec = field(101, 'v', 'FloatVector', { dim: 3 });
const basic = schema([pk, vec]);

function throws1804(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadInsertDataError, String(err));
    assert.equal(milvusCode(err), 1804, err.message);
    assert.ok(err.message.startsWith('fail to deal the insert data, error: '), err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('rowsToBatch', () => {
  it('converts every type into columns', () => {
    const s = schema([
      pk,
      vec,
      field(102, 'b', 'Bool'),
      field(103, 'i8', 'Int8'),
      field(104, 'i16', 'Int16'),
      field(105, 'i32', 'Int32'),
      field(106, 'f', 'Float'),
      field(107, 'd', 'Double'),
      field(108, 's', 'VarChar', { maxLength: 5 }),
      field(109, 'j', 'JSON'),
      field(110, 'a', 'Array', { elementType: 'Int64', maxCapacity: 3 }),
      field(111, 'af', 'Array', { elementType: 'Float', maxCapacity: 3 }),
    ]);
    const batch = rowsToBatch(
      s,
      [
        { id: 1, v: [1, 2, 3], b: 'true', i8: '12', i16: -5, i32: '7.0', f: 0.1, d: '2.5', s: 'héllo'.slice(0, 4), j: { x: [1] }, a: [1, 9007199254740993n], af: [0.1] },
        { id: '9223372036854775807', v: '[0.5, 0.25, 1]', b: 0, i8: -128, i16: 0, i32: 0, f: '1e3', d: 1, s: 42, j: '{"k":"v"}', a: '[3]', af: [] },
      ],
      'insert',
    );
    assert.equal(batch.rowCount, 2);
    assert.equal(batch.dynamic, null);
    const col = (n: string) => batch.columns.get(n)!;
    assert.deepEqual(col('id'), [1n, 9223372036854775807n]);
    assert.ok(col('v')[0] instanceof Float32Array);
    assert.deepEqual(Array.from(col('v')[1] as Float32Array), [0.5, 0.25, 1]);
    assert.deepEqual(col('b'), [true, false]);
    assert.deepEqual(col('i8'), [12, -128]);
    assert.deepEqual(col('i32'), [7, 0]);
    assert.deepEqual(col('f'), [Math.fround(0.1), 1000]);
    assert.deepEqual(col('d'), [2.5, 1]);
    assert.deepEqual(col('s'), ['héll', '42']);
    assert.deepEqual(col('j'), [{ x: [1] }, { k: 'v' }]);
    assert.deepEqual(col('a'), [[1n, 9007199254740993n], [3n]]);
    assert.deepEqual(col('af'), [[Math.fround(0.1)], []]);
  });

  it('checks Int64 values', () => {
    throws1804(() => rowsToBatch(basic, [{ id: 1.5, v: [1, 2, 3] }], 'insert'), /row 0, field id: not an integer: invalid parameter\[expected=Int64\]\[actual=1\.5\]/);
    throws1804(() => rowsToBatch(basic, [{ id: '9223372036854775808', v: [1, 2, 3] }], 'insert'), /out of the int64 range/);
    throws1804(() => rowsToBatch(basic, [{ id: 'abc', v: [1, 2, 3] }], 'insert'), /\[actual="abc"\]/);
    throws1804(() => rowsToBatch(basic, [{ id: true, v: [1, 2, 3] }], 'insert'), /field id/);
  });

  it('checks small ints, bools, floats and VarChar bytes', () => {
    const s = schema([
      pk,
      vec,
      field(102, 'x', 'Int8'),
      field(103, 'b', 'Bool', { nullable: true }),
      field(104, 'f', 'Float', { nullable: true }),
      field(105, 's', 'VarChar', { maxLength: 4, nullable: true }),
    ]);
    const row = { id: 1, v: [1, 2, 3], x: 1 };
    throws1804(
      () => rowsToBatch(s, [{ ...row, x: 128 }], 'insert'),
      /row 0, field x: out of range \[-128, 127\]: invalid parameter\[expected=Int8 \(integer in \[-128, 127\]\)\]\[actual=128\]/,
    );
    throws1804(() => rowsToBatch(s, [{ ...row, x: 'a' }], 'insert'), /not an integer/);
    throws1804(() => rowsToBatch(s, [{ ...row, b: 2 }], 'insert'), /field b: not a boolean/);
    throws1804(() => rowsToBatch(s, [{ ...row, f: 1e39 }], 'insert'), /not a finite float32/);
    throws1804(() => rowsToBatch(s, [{ ...row, f: 'NaN' }], 'insert'), /field f: not a number/);
    // 'ééé' is 3 characters but 6 UTF-8 bytes: Milvus counts bytes.
    throws1804(() => rowsToBatch(s, [{ ...row, s: 'ééé' }], 'insert'), /\(6 bytes in UTF-8\) exceeds max_length \(4\)/);
    throws1804(() => rowsToBatch(s, [{ ...row, s: { a: 1 } }], 'insert'), /field s: not a string/);
  });

  it('checks vectors', () => {
    throws1804(
      () => rowsToBatch(basic, [{ id: 1, v: [1, 2] }], 'insert'),
      /row 0, field v: dimension mismatch: the vector has 2 values, the field's dim is 3: invalid parameter\[expected=FloatVector\(dim=3\)\]\[actual=\[1,2\]\]/,
    );
    throws1804(() => rowsToBatch(basic, [{ id: 1, v: [1, 'a', 3] }], 'insert'), /element 1 \("a"\) is not a number/);
    throws1804(() => rowsToBatch(basic, [{ id: 1, v: [1, 2, 1e40] }], 'insert'), /element 2 .* is not a finite float32/);
    throws1804(() => rowsToBatch(basic, [{ id: 1, v: 5 }], 'insert'), /not an array of numbers/);
  });

  it('checks JSON and Array values', () => {
    const s = schema([pk, vec, field(102, 'j', 'JSON'), field(103, 'a', 'Array', { elementType: 'VarChar', maxCapacity: 2, maxLength: 3 })]);
    const row = { id: 1, v: [1, 2, 3], j: 1, a: [] };
    throws1804(() => rowsToBatch(s, [{ ...row, j: 'not json' }], 'insert'), /field j: a string for a JSON field must hold JSON text/);
    throws1804(() => rowsToBatch(s, [{ ...row, a: ['a', 'b', 'c'] }], 'insert'), /3 elements exceed max_capacity \(2\)/);
    throws1804(() => rowsToBatch(s, [{ ...row, a: ['abcd'] }], 'insert'), /element 0 \("abcd"\) is not a valid VarChar/);
    throws1804(() => rowsToBatch(s, [{ ...row, a: [1] }], 'insert'), /element 0 \(1\) is not a valid VarChar/);
    const b = rowsToBatch(
      s,
      [
        { ...row, j: '"text"' },
        { ...row, j: [1, 2] },
      ],
      'insert',
    );
    assert.deepEqual(b.columns.get('j'), ['text', [1, 2]]);
  });

  it('fills defaults and nulls; the pk is never nullable', () => {
    const s = schema([pk, vec, field(102, 'n', 'Int32', { nullable: true }), field(103, 'd', 'VarChar', { defaultValue: 'dflt', maxLength: 10 }), field(104, 'r', 'Int32')]);
    const b = rowsToBatch(
      s,
      [
        { id: 1, v: [1, 2, 3], r: 1 },
        { id: 2, v: [1, 2, 3], n: null, d: null, r: 2 },
        { id: 3, v: [1, 2, 3], n: 5, d: 'x', r: 3 },
      ],
      'insert',
    );
    assert.deepEqual(b.columns.get('n'), [null, null, 5]);
    assert.deepEqual(b.columns.get('d'), ['dflt', 'dflt', 'x']);
    throws1804(
      () =>
        rowsToBatch(
          s,
          [
            { id: 1, v: [1, 2, 3], r: 1 },
            { id: 2, v: [1, 2, 3] },
          ],
          'insert',
        ),
      /row 1 does not has field r; send a value, or declare the field nullable or with a defaultValue: invalid parameter\[expected=Int32\]\[actual=<missing>\]/,
    );
    throws1804(() => rowsToBatch(s, [{ id: 1, v: [1, 2, 3], r: null }], 'insert'), /row 0 has null for field r, which is not nullable/);
    throws1804(() => rowsToBatch(s, [{ id: null, v: [1, 2, 3], r: 1 }], 'insert'), /row 0, field id: the primary key id is required and cannot be null/);
    throws1804(() => rowsToBatch(s, [{ id: 1, r: 1 }], 'insert'), /row 0 does not has field v/);
  });

  it('applies autoID rules', () => {
    const s = schema([field(100, 'id', 'Int64', { isPrimary: true, autoId: true }), vec]);
    const b = rowsToBatch(s, [{ v: [1, 2, 3] }, { id: null, v: [1, 2, 3] }], 'insert');
    assert.equal(b.columns.has('id'), false);
    throws1804(
      () => rowsToBatch(s, [{ id: 5, v: [1, 2, 3] }], 'insert'),
      'fail to deal the insert data, error: no need to pass pk field(id) when autoid==true in insert: invalid parameter',
    );
    assert.deepEqual(rowsToBatch(s, [{ id: 5, v: [1, 2, 3] }], 'upsert').columns.get('id'), [5n]);
    throws1804(() => rowsToBatch(s, [{ v: [1, 2, 3] }], 'upsert'), /upsert needs the primary key id/);
  });

  it('routes extra keys to $meta or rejects them', () => {
    const dyn = schema([pk, vec], true);
    const b = rowsToBatch(
      dyn,
      [
        { id: 1, v: [1, 2, 3], color: 'red', n: null, big: 12345678901234567890n },
        { id: 2, v: [1, 2, 3] },
      ],
      'insert',
    );
    assert.deepEqual(b.dynamic, [{ color: 'red', big: 12345678901234567890n }, {}]);
    throws1804(() => rowsToBatch(dyn, [{ id: 1, v: [1, 2, 3], $meta: {} }], 'insert'), /use the invalid field name\(\$meta\) when enable dynamicField/);
    throws1804(() => rowsToBatch(basic, [{ id: 1, v: [1, 2, 3], color: 'red' }], 'insert'), /has pass more field without dynamic schema, please check it \(row 0 has key "color"/);
  });

  it('rejects empty data and non-object rows', () => {
    throws1804(() => rowsToBatch(basic, [], 'insert'), /`data` is empty/);
    throws1804(() => rowsToBatch(basic, [[1, 2]], 'insert'), /row 0 is not a JSON object/);
  });

  it('truncates long values in messages', () => {
    const s = schema([pk, vec, field(102, 's', 'VarChar', { maxLength: 3 })]);
    assert.throws(
      () => rowsToBatch(s, [{ id: 1, v: [1, 2, 3], s: 'x'.repeat(1000) }], 'insert'),
      (err: Error) => err.message.length < 400,
    );
  });

  it('converts 1,000 rows of 768 dims from JSON text', () => {
    const s = schema([pk, field(101, 'v', 'FloatVector', { dim: 768 }), field(102, 'tag', 'VarChar', { maxLength: 64 })], true);
    // Through JSON text, as rows arrive from a request. (Speed is measured by `npm run bench`.)
    const rows = JSON.parse(
      JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ id: i, v: Array.from({ length: 768 }, (_, j) => (i + j) / 1000), tag: `t${i}`, extra: i }))),
    ) as unknown[];
    const batch = rowsToBatch(s, rows, 'insert');
    assert.equal(batch.rowCount, 1000);
    const v = batch.columns.get('v')![999] as Float32Array;
    assert.equal(v.length, 768);
    assert.equal(v[767], Math.fround((999 + 767) / 1000));
    assert.equal(batch.columns.get('id')![999], 999n);
    assert.deepEqual(batch.dynamic![999], { extra: 999 });
  });
});
