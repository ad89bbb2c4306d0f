import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32, crc32Portable } from '../../lib/engine/codec/crc32.ts';
import { channelOf, hashInt64, hashPrimaryKey, hashVarChar, murmur3_32 } from '../../lib/engine/hash.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (s: string) => new TextEncoder().encode(s);

describe('murmur3_32 (published test vectors)', () => {
  // Vectors from the SMHasher-derived lists (Wikipedia / Ian Boyd's test set) and Python mmh3 output.
  const cases: [Uint8Array, number, number][] = [
    [bytes(), 0, 0],
    [bytes(), 1, 0x514e28b7],
    [bytes(), 0xffffffff, 0x81f16f39],
    [bytes(0, 0, 0, 0), 0, 0x2362f9de],
    [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
    [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
    [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
    [bytes(0x21, 0x43), 0, 0xa0f7b07a],
    [bytes(0x21), 0, 0x72661cf4],
    [bytes(0, 0, 0), 0, 0x85f0b427],
    [bytes(0, 0), 0, 0x30f4c306],
    [bytes(0), 0, 0x514e28b7],
    [text('hello'), 0, 0x248bfa47],
    [text('hello, world'), 0, 0x149bbb7f],
    [text('The quick brown fox jumps over the lazy dog'), 0, 0x2e4ff723],
    [text('aaaa'), 0x9747b28c, 0x5a97808a],
    [text('aaa'), 0x9747b28c, 0x283e0130],
    [text('aa'), 0x9747b28c, 0x5d211726],
    [text('a'), 0x9747b28c, 0x7fa09ea6],
    [text('abcd'), 0x9747b28c, 0xf0478627],
    [text('abc'), 0x9747b28c, 0xc84a62dd],
    [text('ab'), 0x9747b28c, 0x74875592],
    [text('Hello, world!'), 0x9747b28c, 0x24884cba],
    [text('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    // mmh3.hash(key, 29) & 0xffffffff, incl. the 8-byte shape of an int64 key
    [bytes(0), 29, 0x4289c4e0],
    [bytes(1, 2, 3, 4), 29, 0x148189dd],
    [bytes(1, 2, 3, 4, 5), 29, 0x575a633e],
    [bytes(1, 2, 3, 4, 5, 6), 29, 0xf6fb78f6],
    [bytes(1, 2, 3, 4, 5, 6, 7), 29, 0xd247e646],
    [bytes(1, 2, 3, 4, 5, 6, 7, 8), 29, 0xd82dd722],
  ];
  for (const [input, seed, want] of cases) {
    it(`[${[...input].slice(0, 12).join(',')}${input.length > 12 ? '…' : ''}] seed ${seed.toString(16)} → ${want.toString(16)}`, () => {
      assert.equal(murmur3_32(input, seed), want);
    });
  }
});

describe('hashInt64 (Milvus Hash32Int64)', () => {
  const le8 = (v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v, true);
    return b;
  };
  it('equals murmur3 of the 8 little-endian bytes, masked to 31 bits', () => {
    const values = [0n, 1n, -1n, 42n, 0x0807060504030201n, 449_000_000_000_000_000n, -(1n << 63n), (1n << 63n) - 1n, 1234567890123n];
    for (const v of values) assert.equal(hashInt64(v), murmur3_32(le8(v)) & 0x7fffffff, `value ${v}`);
  });
  it('is masked to 31 bits', () => {
    for (let i = 0n; i < 2000n; i++) assert.ok(hashInt64(i) <= 0x7fffffff);
  });
  it('rejects values outside int64', () => {
    assert.throws(() => hashInt64(1n << 63n), /out of range/);
    assert.throws(() => hashInt64(-(1n << 63n) - 1n), /out of range/);
  });
});

describe('crc32 (IEEE)', () => {
  const vectors: [string, number][] = [
    ['', 0],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ];
  for (const [s, want] of vectors) {
    it(`"${s}" → ${want.toString(16)}`, () => {
      assert.equal(crc32(text(s)), want);
      assert.equal(crc32Portable(text(s)), want);
    });
  }
  it('portable path agrees with zlib on random data of every length mod 8, and chains', () => {
    const native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
    let x = 12345;
    const data = new Uint8Array(1037);
    for (let i = 0; i < data.length; i++) data[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    for (let len = 0; len < 40; len++) {
      const d = data.subarray(3, 3 + len);
      if (native) assert.equal(crc32Portable(d), native(d) >>> 0, `len ${len}`);
    }
    const whole = crc32Portable(data);
    assert.equal(crc32Portable(data.subarray(500), crc32Portable(data.subarray(0, 500))), whole);
    assert.equal(crc32(data.subarray(500), crc32(data.subarray(0, 500))), whole);
  });
});

describe('hashVarChar (Milvus HashString2Uint32)', () => {
  it('is the crc32 of the UTF-8 string when it is at most 100 bytes', () => {
    assert.equal(hashVarChar('123456789'), 0xcbf43926);
    assert.equal(hashVarChar(''), 0);
    assert.equal(hashVarChar('héllo wörld'), crc32Portable(Buffer.from('héllo wörld', 'utf8')));
  });
  it('hashes only the first 100 bytes', () => {
    assert.equal(hashVarChar('a'.repeat(150)), hashVarChar('a'.repeat(100)));
    assert.equal(hashVarChar('a'.repeat(100) + 'xyz'), crc32Portable(text('a'.repeat(100))));
    assert.notEqual(hashVarChar('a'.repeat(99)), hashVarChar('a'.repeat(100)));
  });
  it('cuts bytes, not characters (Go s[:100] may split a multi-byte char)', () => {
    // 99 ASCII bytes + 'é' (C3 A9): Go hashes the 99 bytes plus the lone lead byte 0xC3.
    const s = 'a'.repeat(99) + 'é' + 'tail';
    const want = Buffer.concat([Buffer.from('a'.repeat(99)), Buffer.from([0xc3])]);
    assert.equal(hashVarChar(s), crc32Portable(want));
    // 'é' × 60 = 120 bytes → first 100 bytes = 50 'é'.
    assert.equal(hashVarChar('é'.repeat(60)), crc32Portable(Buffer.from('é'.repeat(50))));
    // 4-byte chars: 25 × '😀' = 100 bytes exactly, the 26th is dropped.
    assert.equal(hashVarChar('😀'.repeat(26)), crc32Portable(Buffer.from('😀'.repeat(25))));
    // 98 ASCII + a 4-byte char: the prefix ends with 2 of its 4 bytes.
    const emoji = Buffer.from('😀');
    assert.equal(hashVarChar('b'.repeat(98) + '😀'), crc32Portable(Buffer.concat([Buffer.from('b'.repeat(98)), emoji.subarray(0, 2)])));
  });
});

describe('channelOf', () => {
  it('is hash % shards for both key types', () => {
    for (const pk of [0n, 7n, -3n, 1n << 40n, 'alpha', 'β', '']) {
      for (const shards of [1, 2, 3, 16]) assert.equal(channelOf(pk, shards), hashPrimaryKey(pk) % shards);
    }
    assert.equal(channelOf('123456789', 16), 0xcbf43926 % 16);
  });
  it('spreads sequential int64 keys over the shards', () => {
    const counts = new Array(4).fill(0);
    for (let i = 0n; i < 4000n; i++) counts[channelOf(i, 4)]++;
    for (const c of counts) assert.ok(c > 800 && c < 1200, `uneven: ${counts}`);
  });
  it('rejects a bad shard count', () => {
    assert.throws(() => channelOf(1n, 0), /positive integer/);
  });
});
