import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeTs, LOGICAL_PER_MS, logicalOf, physicalMs, Tso } from '../../lib/engine/tso.ts';

describe('hybrid timestamp helpers', () => {
  it('compose and split', () => {
    const ms = 1_700_000_000_123;
    const ts = composeTs(ms, 5);
    assert.equal(ts, (BigInt(ms) << 18n) | 5n);
    assert.equal(physicalMs(ts), ms);
    assert.equal(logicalOf(ts), 5);
    assert.equal(logicalOf(composeTs(ms, LOGICAL_PER_MS - 1)), 262143);
  });
  it('matches a Milvus-looking value', () => {
    // 2^18 * 1.7e12 ≈ 4.46e17: Milvus timestamps and auto ids are this large.
    const ts = composeTs(1_700_000_000_000, 0);
    assert.equal(ts, 445_644_800_000_000_000n);
  });
  it('rejects out-of-range parts', () => {
    assert.throws(() => composeTs(-1, 0), /non-negative/);
    assert.throws(() => composeTs(1.5, 0), /non-negative/);
    assert.throws(() => composeTs(1, LOGICAL_PER_MS), /logical/);
    assert.throws(() => composeTs(1, -1), /logical/);
  });
});

describe('Tso', () => {
  it('follows the wall clock', () => {
    let now = 1000;
    const tso = new Tso({ clock: () => now });
    assert.equal(tso.allocate(), composeTs(1000, 0));
    assert.equal(tso.allocate(), composeTs(1000, 1));
    now = 1005;
    assert.equal(tso.allocate(), composeTs(1005, 0));
  });
  it('allocate(count) reserves a contiguous range', () => {
    const tso = new Tso({ clock: () => 2000 });
    const first = tso.allocate(10);
    assert.equal(first, composeTs(2000, 0));
    assert.equal(tso.allocate(), first + 10n);
  });
  it('stays strictly increasing when the clock goes backwards', () => {
    let now = 5000;
    const tso = new Tso({ clock: () => now });
    const a = tso.allocate();
    now = 4000;
    const b = tso.allocate();
    const c = tso.allocate();
    assert.ok(b > a && c > b);
    assert.equal(physicalMs(b), 5000);
    now = 5001;
    assert.equal(tso.allocate(), composeTs(5001, 0));
  });
  it('moves to the next millisecond when 2^18 logical values run out', () => {
    const tso = new Tso({ clock: () => 7000 });
    tso.allocate(LOGICAL_PER_MS - 1);
    const last = tso.allocate();
    assert.equal(last, composeTs(7000, LOGICAL_PER_MS - 1));
    const next = tso.allocate();
    assert.equal(next, composeTs(7001, 0));
    // A range that does not fit starts in a fresh millisecond, wholly.
    const t2 = new Tso({ clock: () => 9000 });
    t2.allocate(LOGICAL_PER_MS - 5);
    const range = t2.allocate(10);
    assert.equal(range, composeTs(9001, 0));
    assert.equal(t2.allocate(), composeTs(9001, 10));
  });
  it('never repeats over many allocations on a frozen clock', () => {
    const tso = new Tso({ clock: () => 1 });
    let prev = -1n;
    for (let i = 0; i < 3 * LOGICAL_PER_MS; i += 1000) {
      const t = tso.allocate(1000);
      assert.ok(t > prev);
      prev = t + 999n;
    }
  });
  it('now() peeks at the next allocation without consuming it', () => {
    let now = 100;
    const tso = new Tso({ clock: () => now });
    const a = tso.allocate();
    const peek = tso.now();
    assert.ok(peek > a);
    assert.equal(tso.now(), peek);
    assert.equal(tso.allocate(), peek);
    now = 200;
    assert.equal(tso.now(), composeTs(200, 0));
    const full = new Tso({ clock: () => 300 });
    full.allocate(LOGICAL_PER_MS);
    assert.equal(full.now(), composeTs(301, 0));
    assert.equal(full.allocate(), composeTs(301, 0));
  });
  it('floor / observe keep allocations above timestamps seen elsewhere', () => {
    const seen = composeTs(10_000, 42);
    const tso = new Tso({ clock: () => 9_000, floor: seen });
    assert.equal(tso.allocate(), seen + 1n);
    tso.observe(composeTs(20_000, 3));
    assert.equal(tso.allocate(), composeTs(20_000, 4));
    tso.observe(composeTs(1, 0)); // older: no effect
    assert.equal(tso.allocate(), composeTs(20_000, 5));
  });
  it('uses the real clock by default', () => {
    const tso = new Tso();
    const before = Date.now();
    const t = tso.allocate();
    assert.ok(Math.abs(physicalMs(t) - before) < 1000);
  });
  it('rejects a bad count', () => {
    const tso = new Tso();
    assert.throws(() => tso.allocate(0), /count/);
    assert.throws(() => tso.allocate(LOGICAL_PER_MS + 1), /count/);
  });
});
