import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNK_BLOCK_BYTES, COLUMN_HEADER_BYTES, decodeColumn, encodeColumn, encodeVectors } from '../../lib/engine/codec/column-codec.ts';
import { crc32 } from '../../lib/engine/codec/crc32.ts';
import { CorruptDataError } from '../../lib/engine/errors.ts';
import type { DataType, ElementType, Value } from '../../lib/engine/schema/types.ts';

/** Encodes, decodes and compares every row. */
function roundTrip(type: DataType, values: Value[], opts: { dim?: number; elementType?: ElementType } = {}) {
  const bytes = encodeColumn(type, values, opts);
  const col = decodeColumn(bytes);
  assert.equal(col.type, type);
  assert.equal(col.rowCount, values.length);
  assert.deepEqual(col.toArray(), values);
  for (let i = 0; i < values.length; i++) assert.equal(col.isNull(i), values[i] === null);
  return { bytes, col };
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

describe('column codec round trips', () => {
  it('Bool', () => {
    const { col } = roundTrip('Bool', [true, false, null, true]);
    assert.deepEqual([...col.bools!], [1, 0, 0, 1]);
  });
  it('Int8 / Int16 / Int32 with extremes and nulls', () => {
    roundTrip('Int8', [-128, 127, 0, null]);
    roundTrip('Int16', [-32768, 32767, null, 5]);
    const { col } = roundTrip('Int32', [-2147483648, 2147483647, 7]);
    assert.ok(col.numeric instanceof Int32Array);
    assert.equal(col.validity, null);
  });
  it('Int64 keeps bigint extremes', () => {
    const { col } = roundTrip('Int64', [I64_MIN, I64_MAX, 0n, -1n, null, 449_000_000_000_000_001n]);
    assert.ok(col.numeric instanceof BigInt64Array);
  });
  it('Float and Double', () => {
    roundTrip('Float', [1.5, -0.25, null, Math.fround(3.14159)]);
    roundTrip('Double', [Math.PI, -1e300, Number.MIN_VALUE, null]);
  });
  it('VarChar incl. unicode, empty and nulls', () => {
    roundTrip('VarChar', ['', 'hello', 'héllo wörld', '日本語テキスト', '😀 emoji 👍🏽', null, 'x'.repeat(10_000)]);
  });
  it('JSON incl. nested values, nulls and big integers', () => {
    const big = { id: 12345678901234567890n, nested: { a: [1, 2.5, 'x', null, true] } };
    roundTrip('JSON', [{ a: 1 }, [1, 2, 3], 'str', 42, null, { u: 'ünï' }, big, { s: '12345678901234567890' }]);
  });
  it('Array of every element type', () => {
    roundTrip('Array', [[true, false], [], null, [true]], { elementType: 'Bool' });
    roundTrip('Array', [[1, -2], [127], null], { elementType: 'Int8' });
    roundTrip('Array', [[1, 30000], null], { elementType: 'Int16' });
    roundTrip('Array', [[1, 2, 3], [], [2147483647]], { elementType: 'Int32' });
    roundTrip('Array', [[I64_MIN, I64_MAX], null, [0n]], { elementType: 'Int64' });
    roundTrip('Array', [[0.5, 1.25], null], { elementType: 'Float' });
    roundTrip('Array', [[Math.E], [1e-300, 2]], { elementType: 'Double' });
    const { col } = roundTrip('Array', [['a', 'ü'], [], null, ['', '😀']], { elementType: 'VarChar' });
    assert.equal(col.elementType, 'VarChar');
    assert.equal(col.elements!.rowCount, 4);
  });
  it('FloatVector 768-dim, with a null row', () => {
    const dim = 768;
    const rows: Value[] = [];
    for (let r = 0; r < 5; r++) rows.push(Float32Array.from({ length: dim }, (_, i) => Math.fround(Math.sin(r * dim + i))));
    rows.push(null);
    const { col } = roundTrip('FloatVector', rows, { dim });
    assert.equal(col.dim, dim);
    assert.equal(col.vectors!.length, rows.length * dim);
  });
  it('empty columns of every type', () => {
    for (const t of ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar', 'JSON'] as DataType[]) roundTrip(t, []);
    roundTrip('Array', [], { elementType: 'VarChar' });
    roundTrip('FloatVector', [], { dim: 4 });
    assert.equal(decodeColumn(encodeVectors(new Float32Array(0), 8)).rowCount, 0);
  });
  it('all-null column', () => {
    roundTrip('VarChar', [null, null, null]);
    roundTrip('Int64', new Array(17).fill(null));
  });
});

describe('column codec zero-copy layout', () => {
  it('numeric and vector payloads are views over the input buffer', () => {
    const flat = Float32Array.from({ length: 10 * 8 }, (_, i) => i);
    const bytes = encodeVectors(flat, 8);
    const col = decodeColumn(bytes);
    assert.equal(col.vectors!.buffer, bytes.buffer);
    assert.equal(col.vectors!.byteOffset % 8, 0);
    assert.deepEqual(col.vectors, flat);
    assert.deepEqual(col.get(3), flat.subarray(24, 32));
    const ints = encodeColumn('Int64', [1n, 2n, null]);
    const ic = decodeColumn(ints);
    assert.equal(ic.numeric!.buffer, ints.buffer);
    assert.equal(ic.numeric!.byteOffset % 8, 0);
  });
  it('decodes from an unaligned slice by copying once', () => {
    const bytes = encodeColumn('Double', [1, 2, 3]);
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const col = decodeColumn(host.subarray(3));
    assert.deepEqual(col.toArray(), [1, 2, 3]);
    assert.notEqual(col.numeric!.buffer, host.buffer);
  });
  it('decodes from an unaligned Buffer by copying once (a Buffer slice() is a view)', () => {
    const bytes = encodeColumn('Int64', [1n, 2n, 3n]);
    const host = Buffer.alloc(bytes.length + 3);
    host.set(bytes, 3);
    const col = decodeColumn(host.subarray(3));
    assert.deepEqual(col.toArray(), [1n, 2n, 3n]);
    assert.notEqual(col.numeric!.buffer, host.buffer);
  });
  it('decodes from an aligned slice of a larger buffer without copying', () => {
    const bytes = encodeColumn('Int32', [5, 6, 7]);
    const host = new Uint8Array(bytes.length + 16);
    host.set(bytes, 8);
    const col = decodeColumn(host.subarray(8, 8 + bytes.length));
    assert.equal(col.numeric!.buffer, host.buffer);
    assert.deepEqual(col.toArray(), [5, 6, 7]);
  });
  it('encodeVectors equals encodeColumn on the same rows', () => {
    const flat = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 3);
    const rows = [0, 1, 2].map((r) => flat.slice(r * 4, r * 4 + 4));
    assert.deepEqual(encodeVectors(flat, 4), encodeColumn('FloatVector', rows, { dim: 4 }));
  });
});

describe('column codec rejects bad values', () => {
  it('wrong types say which row and what was received', () => {
    assert.throws(
      () => encodeColumn('Int64', [1n, 2]),
      (e: Error) => e instanceof TypeError && /row 1 is number 2/.test(e.message),
    );
    assert.throws(() => encodeColumn('Int64', [1n << 63n]), /int64 range/);
    assert.throws(() => encodeColumn('Int8', [128]), /\[-128, 127\]/);
    assert.throws(() => encodeColumn('Int32', [1.5]), /integer/);
    assert.throws(() => encodeColumn('VarChar', [1]), /expected a string/);
    assert.throws(() => encodeColumn('Bool', ['true']), /boolean/);
    assert.throws(() => encodeColumn('FloatVector', [new Float32Array(3)], { dim: 4 }), /length 4/);
    assert.throws(() => encodeColumn('FloatVector', [], {}), /dim must be/);
    assert.throws(() => encodeColumn('Array', [[1]], {}), /elementType/);
    assert.throws(() => encodeColumn('Array', [[1, null]], { elementType: 'Int32' }), /null elements/);
    assert.throws(() => encodeColumn('Array', [['a', 1]], { elementType: 'VarChar' }), /string elements/);
    assert.throws(() => encodeVectors(new Float32Array(5), 2), /multiple of dim/);
  });
});

/** Where a version-2 chunk's body starts (after the header and the block table). */
function bodyStart(bytes: Uint8Array): number {
  const blocks = new DataView(bytes.buffer, bytes.byteOffset).getUint32(20, true);
  return (COLUMN_HEADER_BYTES + 4 * blocks + 7) & ~7;
}

/** Recomputes every checksum of a version-2 chunk, so a test can damage its structure behind valid checksums. */
function reseal(bytes: Uint8Array): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const blocks = dv.getUint32(20, true);
  const start = bodyStart(bytes);
  for (let b = 0; b < blocks; b++) {
    dv.setUint32(COLUMN_HEADER_BYTES + 4 * b, crc32(bytes.subarray(start + b * CHUNK_BLOCK_BYTES, Math.min(start + (b + 1) * CHUNK_BLOCK_BYTES, bytes.length))), true);
  }
  dv.setUint32(28, crc32(bytes.subarray(COLUMN_HEADER_BYTES, start), crc32(bytes.subarray(0, 28))), true);
  return bytes;
}

/** The same column in format version 1 (16-byte header, no checksums), as builds before checksums wrote it. */
function asVersion1(v2: Uint8Array): Uint8Array {
  const body = v2.subarray(bodyStart(v2));
  const out = new Uint8Array(16 + body.length);
  out.set(v2.subarray(0, 16));
  new DataView(out.buffer).setUint16(4, 1, true);
  out.set(body, 16);
  return out;
}

describe('column codec detects corruption', () => {
  const good = encodeColumn('VarChar', ['alpha', 'beta', null, 'gamma']);
  const isCorrupt = (re: RegExp) => (e: unknown) => e instanceof CorruptDataError && re.test((e as Error).message);

  it('any flipped byte of a chunk is a checksum error naming the chunk, never other values', () => {
    const chunks = [
      good,
      encodeColumn('Int64', [1n, 2n, 3n]),
      encodeVectors(
        new Float32Array(64).map((_, i) => i),
        16,
      ),
      encodeColumn('Array', [['a'], ['b', 'c']], { elementType: 'VarChar' }),
      encodeColumn('JSON', [{ a: 1 }, null]),
    ];
    let cases = 0;
    for (const bytes of chunks) {
      for (let at = 0; at < bytes.length; at++) {
        const b = bytes.slice();
        b[at] ^= 0x10;
        assert.throws(
          () => decodeColumn(b, 'insert_log/1/_default/7/100/1'),
          (e: unknown) => e instanceof CorruptDataError && e.key === 'insert_log/1/_default/7/100/1' && e.message.includes('insert_log/1/_default/7/100/1'),
          `byte ${at} of ${bytes.length}`,
        );
        cases++;
      }
    }
    assert.ok(cases > 300);
  });
  it('a checksum mismatch reports both checksums and the damaged block', () => {
    const n = (3 * CHUNK_BLOCK_BYTES) / 4; // three blocks of floats
    const bytes = encodeVectors(
      new Float32Array(n).map((_, i) => i),
      4,
    );
    bytes[bodyStart(bytes) + CHUNK_BLOCK_BYTES + 5] ^= 1;
    assert.throws(
      () => decodeColumn(bytes, 'k'),
      (e: unknown) =>
        e instanceof CorruptDataError && e.what === 'column chunk' && /block 1 of 3/.test(e.message) && /^0x[0-9a-f]{8}$/.test(e.expected!) && e.expected !== e.actual,
    );
  });
  it('bad magic', () => {
    const b = good.slice();
    b[0] = 0x58;
    assert.throws(() => decodeColumn(b), isCorrupt(/magic is "XGCH", expected "MGCH"/));
  });
  it('unknown version', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint16(4, 99, true);
    assert.throws(() => decodeColumn(b), isCorrupt(/version 99/));
  });
  it('unknown type code and flags behind valid checksums', () => {
    const b = good.slice();
    b[6] = 77;
    assert.throws(() => decodeColumn(reseal(b)), isCorrupt(/DataType code 77/));
    const c = good.slice();
    c[7] = 0x80;
    assert.throws(() => decodeColumn(reseal(c)), isCorrupt(/flags/));
  });
  it('truncated at every length', () => {
    for (const bytes of [
      good,
      encodeColumn('Int64', [1n, 2n, 3n]),
      encodeVectors(new Float32Array(64), 16),
      encodeColumn('Array', [['a'], ['b', 'c']], { elementType: 'VarChar' }),
      encodeColumn('JSON', [{ a: 1 }]),
    ]) {
      for (let len = 0; len < bytes.length; len++) {
        assert.throws(() => decodeColumn(bytes.slice(0, len)), CorruptDataError, `length ${len} of ${bytes.length}`);
      }
    }
  });
  it('trailing garbage', () => {
    const b = new Uint8Array(good.length + 8);
    b.set(good);
    assert.throws(() => decodeColumn(b), CorruptDataError);
  });
  it('decreasing offsets behind valid checksums', () => {
    const b = good.slice();
    // offsets start right after the body's 1 validity byte, aligned to 8
    new DataView(b.buffer).setUint32(bodyStart(b) + 8 + 4 * 2, 1, true);
    assert.throws(() => decodeColumn(reseal(b)), isCorrupt(/decrease/));
  });
  it('header shorter than 16 bytes', () => {
    assert.throws(() => decodeColumn(new Uint8Array(15)), isCorrupt(/shorter/));
  });
});

describe('column codec reads format version 1 (written before checksums)', () => {
  it('decodes every type from version-1 bytes', () => {
    const cases: [DataType, Value[], { dim?: number; elementType?: ElementType }][] = [
      ['VarChar', ['alpha', null, 'gamma'], {}],
      ['Int64', [1n, -2n, null], {}],
      ['Bool', [true, false], {}],
      ['JSON', [{ a: 1 }, null], {}],
      ['Array', [[1, 2], null, []], { elementType: 'Int32' }],
      ['FloatVector', [new Float32Array([1, 2]), new Float32Array([3, 4])], { dim: 2 }],
    ];
    for (const [type, values, opts] of cases) {
      const v1 = asVersion1(encodeColumn(type, values, opts));
      assert.equal(v1[4], 1);
      assert.deepEqual(decodeColumn(v1).toArray(), values, type);
    }
  });
});

describe('column codec speed', () => {
  it('decodes 100k × 128 vectors zero-copy (a view over the chunk bytes)', () => {
    const dim = 128;
    const n = 100_000;
    const flat = new Float32Array(n * dim);
    for (let i = 0; i < flat.length; i++) flat[i] = (i % 1000) / 1000;
    let t = performance.now();
    const bytes = encodeVectors(flat, dim);
    const encMs = performance.now() - t;
    t = performance.now();
    const col = decodeColumn(bytes);
    const decMs = performance.now() - t;
    assert.equal(col.vectors!.length, n * dim);
    console.log(`# 100k×128 vectors (${(bytes.length / 1e6).toFixed(1)} MB): encodeVectors ${encMs.toFixed(1)} ms, decodeColumn ${decMs.toFixed(3)} ms`);
    assert.equal(col.vectors!.buffer, bytes.buffer, 'the decoded vectors are a view, not a copy');
    assert.equal(col.vectors![n * dim - 1], flat[n * dim - 1]);
  });
});
