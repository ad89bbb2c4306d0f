/** Response float formatting and request JSON parsing (lib/api/json-writer.ts, lib/api/json-parse.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJson } from '../../lib/api/json-parse.ts';
import { formatFloat32, writeFloat32Array } from '../../lib/api/json-writer.ts';
import { rng } from '../support/data.ts';

/** The reference: the shortest of 6…9 significant digits that reads back as the same float32. */
function reference(value: number): string {
  const f = Math.fround(value);
  if (f - f !== 0) return 'null';
  if (f === 0) return '0';
  for (let p = 6; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return String(d);
  }
  return String(f);
}

describe('formatFloat32', () => {
  it('prints the shortest text that reads back as the same float32, as the toPrecision reference does', () => {
    const r = rng(5);
    const bits = new Uint32Array(1);
    const f32 = new Float32Array(bits.buffer);
    for (let i = 0; i < 200_000; i++) {
      bits[0] = Math.floor(r() * 2 ** 32) >>> 0;
      const v = f32[0];
      assert.equal(formatFloat32(v), reference(v), `bits 0x${bits[0].toString(16)}`);
    }
    for (let i = 0; i < 200_000; i++) {
      const v = Math.fround((r() - 0.5) * 10 ** Math.floor(r() * 16 - 10));
      assert.equal(formatFloat32(v), reference(v));
    }
  });

  it('handles the edges', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [-0.5, '-0.5'],
      [1, '1'],
      [1e-7, '1e-7'],
      [123456789, '123456790'],
      [16777216, '16777216'],
      [3.4028234663852886e38, '3.4028235e+38'],
      [1.401298464324817e-45, '1.4013e-45'],
      [1e21, '1e+21'],
      [0, '0'],
      [-0, '0'],
      [NaN, 'null'],
      [Infinity, 'null'],
      [1e39, 'null'],
    ];
    for (const [v, text] of cases) assert.equal(formatFloat32(v), text, String(v));
  });
});

describe('parseJson', () => {
  it('keeps integers beyond 2^53 exact and leaves every other number a number', () => {
    assert.deepEqual(parseJson('{"a":9007199254740993,"b":[1,-9223372036854775808,2.5],"c":"12345678901234567890"}'), {
      a: 9007199254740993n,
      b: [1, -9223372036854775808n, 2.5],
      c: '12345678901234567890',
    });
    assert.deepEqual(parseJson('{"a":9007199254740991,"b":0.12345678901234568,"c":1e300}'), { a: 9007199254740991, b: 0.12345678901234568, c: 1e300 });
    assert.deepEqual(parseJson('[{"x":[{"y":9007199254740992}]}]'), [{ x: [{ y: 9007199254740992n }] }]);
  });

  it('keeps the last of duplicate keys on both paths and rejects malformed text', () => {
    assert.deepEqual(parseJson('{"a":1,"a":2}'), { a: 2 });
    assert.deepEqual(parseJson('{"a":1,"a":18446744073709551615}'), { a: 18446744073709551615n });
    assert.throws(() => parseJson('{"a":'), SyntaxError);
  });
});

describe('writeFloat32Array', () => {
  it('writes exactly the formatFloat32 text of every value', () => {
    const r = rng(9);
    const bits = new Uint32Array(4096);
    for (let rep = 0; rep < 40; rep++) {
      for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(r() * 2 ** 32) >>> 0;
      const raw = new Float32Array(bits.buffer);
      const typical = raw.map(() => Math.fround((r() - 0.5) * 10 ** Math.floor(r() * 16 - 10)));
      for (const values of [raw, typical, new Float32Array([0, -0, 1e21, 1e-7, 123456789, 0.5, -3.4028234663852886e38, NaN, Infinity])]) {
        assert.equal(writeFloat32Array(values), `[${Array.from(values, formatFloat32).join(',')}]`);
      }
    }
    assert.equal(writeFloat32Array([]), '[]');
    assert.equal(writeFloat32Array(new Float32Array(10_000).fill(-1.5)), `[${new Array(10_000).fill('-1.5').join(',')}]`);
  });
});
