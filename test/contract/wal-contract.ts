/**
 * The Wal contract: behaviour every adapter (memory, local files, Kinesis) must show. Registers
 * node:test cases; each case gets a fresh, empty WAL from `make`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError, StorageError } from '../../lib/engine/errors.ts';
import type { Wal, WalRecord } from '../../lib/engine/ports/wal.ts';
import { allByteValues, assertBytes, fails, pseudoRandomBytes, rejectsWith, utf8 } from './contract-helpers.ts';

/** A WAL under test. */
export interface WalFixture {
  wal: Wal;
  /** Closes the current WAL and opens a new one over the same data (omit without persistence). */
  reopen?(): Promise<Wal>;
  /** Closes the latest WAL and removes everything the fixture created. */
  cleanup(): Promise<void>;
}

/** Records `tag-0`, `tag-1`, … as bytes. */
function recs(tag: string, n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => utf8(`${tag}-${i}`));
}

/** Asserts `records` are at positions from `first` on, holding `expected`. */
function assertRecords(records: WalRecord[], first: bigint, expected: (Uint8Array | string)[]): void {
  assert.equal(records.length, expected.length, `expected ${expected.length} records, got ${records.length}`);
  records.forEach((r, i) => {
    assert.equal(r.position, first + BigInt(i), `record ${i} position`);
    assertBytes(r.data, expected[i], `record at position ${r.position}`);
  });
}

/** Reads a whole channel from `from` in pages of `page`. */
async function readAll(wal: Wal, channel: string, from: bigint, page = 1000): Promise<WalRecord[]> {
  const out: WalRecord[] = [];
  for (;;) {
    const got = await wal.read(channel, from + BigInt(out.length), page);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

/** Registers the Wal contract for one adapter. */
export function walContract(name: string, make: () => Promise<WalFixture>): void {
  const withWal = (body: (wal: Wal, fx: WalFixture) => Promise<void>) => async () => {
    const fx = await make();
    try {
      await body(fx.wal, fx);
    } finally {
      await fx.cleanup();
    }
  };

  describe(`Wal contract: ${name}`, () => {
    it(
      'an unused channel has tail 0 and reads empty',
      withWal(async (w) => {
        assert.equal(await w.tail('c1-0'), 0n);
        assert.deepEqual(await w.read('c1-0', 0n, 10), []);
      }),
    );

    it(
      'appends get contiguous positions and read back byte-exact',
      withWal(async (w) => {
        assert.equal(await w.append('c1-0', recs('a', 3)), 0n);
        assert.equal(await w.append('c1-0', [allByteValues(), new Uint8Array(0)]), 3n);
        assert.equal(await w.append('c1-0', recs('b', 1)), 5n);
        assert.equal(await w.tail('c1-0'), 6n);
        assertRecords(await w.read('c1-0', 0n, 100), 0n, ['a-0', 'a-1', 'a-2', allByteValues(), new Uint8Array(0), 'b-0']);
      }),
    );

    it(
      'channels are independent',
      withWal(async (w) => {
        assert.equal(await w.append('c1-0', recs('x', 2)), 0n);
        assert.equal(await w.append('c1-1', recs('y', 3)), 0n);
        assert.equal(await w.append('c1-0', recs('z', 1)), 2n);
        assert.equal(await w.tail('c1-0'), 3n);
        assert.equal(await w.tail('c1-1'), 3n);
        assertRecords(await w.read('c1-0', 0n, 10), 0n, ['x-0', 'x-1', 'z-0']);
        assertRecords(await w.read('c1-1', 0n, 10), 0n, ['y-0', 'y-1', 'y-2']);
      }),
    );

    it(
      'reads from the middle, honour the limit, and return [] at the tail',
      withWal(async (w) => {
        await w.append('c2-0', recs('r', 10));
        assertRecords(await w.read('c2-0', 4n, 3), 4n, ['r-4', 'r-5', 'r-6']);
        assertRecords(await w.read('c2-0', 7n, 100), 7n, ['r-7', 'r-8', 'r-9']);
        assertRecords(await w.read('c2-0', 9n, 1), 9n, ['r-9']);
        assert.deepEqual(await w.read('c2-0', 10n, 5), []);
      }),
    );

    it(
      'sequential tailing sees every record exactly once as appends continue',
      withWal(async (w) => {
        let next = 0n;
        const seen: string[] = [];
        for (let round = 0; round < 5; round++) {
          await w.append('c2-1', recs(`t${round}`, 7));
          for (;;) {
            const got = await w.read('c2-1', next, 3);
            if (got.length === 0) break;
            assert.equal(got[0].position, next);
            next += BigInt(got.length);
            seen.push(...got.map((r) => Buffer.from(r.data).toString()));
          }
        }
        assert.equal(seen.length, 35);
        assert.deepEqual(seen.slice(0, 8), ['t0-0', 't0-1', 't0-2', 't0-3', 't0-4', 't0-5', 't0-6', 't1-0']);
      }),
    );

    it(
      'reading beyond the tail and bad arguments are rejected',
      withWal(async (w) => {
        await w.append('c3-0', recs('a', 2));
        await fails(() => w.read('c3-0', 3n, 1), /tail/);
        await fails(() => w.read('c3-0', -1n, 1));
        await fails(() => w.read('c3-0', 0n, 0));
        await fails(() => w.read('c3-0', 0 as unknown as bigint, 1));
        await fails(() => w.append('c3-0', [utf8('ok'), 'not bytes' as unknown as Uint8Array]));
        assert.equal(await w.tail('c3-0'), 2n, 'a rejected append adds nothing');
      }),
    );

    it(
      'rejects unsafe channel names',
      withWal(async (w) => {
        for (const bad of ['', '../etc', 'a/b', 'a b', '.hidden', '-lead', 'x'.repeat(129)]) {
          await fails(() => w.append(bad, recs('n', 1)), /channel/);
          await fails(() => w.tail(bad), /channel/);
        }
      }),
    );

    it(
      'append of no records adds nothing and returns the tail',
      withWal(async (w) => {
        await w.append('c4-0', recs('a', 2));
        assert.equal(await w.append('c4-0', []), 2n);
        assert.equal(await w.tail('c4-0'), 2n);
      }),
    );

    it(
      'concurrent appends keep each call contiguous and every position unique',
      withWal(async (w) => {
        const calls = Array.from({ length: 60 }, (_, i) => recs(`call${i}`, (i % 3) + 1));
        const firsts = await Promise.all(calls.map((records) => w.append('c5-0', records)));
        const total = calls.reduce((n, c) => n + c.length, 0);
        assert.equal(await w.tail('c5-0'), BigInt(total));
        const all = await readAll(w, 'c5-0', 0n, 50);
        assert.equal(all.length, total);
        const owner = new Array<number>(total).fill(-1);
        calls.forEach((records, i) => {
          records.forEach((r, j) => {
            const pos = Number(firsts[i]) + j;
            assert.equal(owner[pos], -1, `position ${pos} handed out twice`);
            owner[pos] = i;
            assertBytes(all[pos].data, r, `call ${i} record ${j}`);
          });
        });
        assert.ok(
          owner.every((o) => o >= 0),
          'no gaps',
        );
      }),
    );

    it(
      'round-trips larger records',
      withWal(async (w) => {
        const big = pseudoRandomBytes(300 * 1024, 3);
        await w.append('c6-0', [utf8('small'), big, utf8('after')]);
        assertRecords(await w.read('c6-0', 0n, 10), 0n, ['small', big, 'after']);
        assertRecords(await w.read('c6-0', 1n, 1), 1n, [big]);
      }),
    );

    it(
      'does not alias caller buffers',
      withWal(async (w) => {
        const r = utf8('original');
        const p = w.append('c7-0', [r]);
        r.fill(0); // even before the append resolves
        await p;
        const [got] = await w.read('c7-0', 0n, 1);
        assertBytes(got.data, 'original');
        got.data.fill(0);
        assertBytes((await w.read('c7-0', 0n, 1))[0].data, 'original');
      }),
    );

    it(
      'truncate discards earlier records: reading them fails, later ones and appends carry on',
      withWal(async (w) => {
        await w.append('c8-0', recs('a', 10));
        await w.truncate('c8-0', 6n);
        assertRecords(await w.read('c8-0', 6n, 100), 6n, ['a-6', 'a-7', 'a-8', 'a-9']);
        await rejectsWith(w.read('c8-0', 5n, 1), NotFoundError, /truncated/);
        await rejectsWith(w.read('c8-0', 0n, 1), NotFoundError);
        assert.equal(await w.tail('c8-0'), 10n);
        await w.truncate('c8-0', 3n); // below the current start: nothing happens
        assertRecords(await w.read('c8-0', 6n, 1), 6n, ['a-6']);
        assert.equal(await w.append('c8-0', recs('b', 2)), 10n);
        assertRecords(await w.read('c8-0', 9n, 10), 9n, ['a-9', 'b-0', 'b-1']);
        await fails(() => w.truncate('c8-0', 13n), /tail/);
        await w.truncate('c8-0', 12n); // up to the tail: nothing left to read
        assert.deepEqual(await w.read('c8-0', 12n, 10), []);
        assert.equal(await w.append('c8-0', recs('c', 1)), 12n);
        assertRecords(await w.read('c8-0', 12n, 10), 12n, ['c-0']);
      }),
    );

    it(
      'dropChannel removes a channel entirely and leaves the others',
      withWal(async (w) => {
        await w.append('c9-0', recs('a', 5));
        await w.append('c9-1', recs('b', 2));
        await w.dropChannel('c9-0');
        assert.equal(await w.tail('c9-0'), 0n);
        assert.deepEqual(await w.read('c9-0', 0n, 10), []);
        assertRecords(await w.read('c9-1', 0n, 10), 0n, ['b-0', 'b-1']);
        assert.equal(await w.append('c9-0', recs('new', 1)), 0n);
        assertRecords(await w.read('c9-0', 0n, 10), 0n, ['new-0']);
        await w.dropChannel('never-used');
      }),
    );

    it(
      'appends queued before a drop complete; the channel then restarts at 0',
      withWal(async (w) => {
        const before = w.append('c9-2', recs('a', 3));
        const drop = w.dropChannel('c9-2');
        assert.equal(await before, 0n);
        await drop;
        assert.equal(await w.tail('c9-2'), 0n);
      }),
    );

    it(
      'a reopened WAL keeps every acknowledged record, tail and truncation (adapters with persistence)',
      withWal(async (w, fx) => {
        if (!fx.reopen) return;
        await w.append('c10-0', recs('a', 4));
        await w.append('c10-0', [allByteValues()]);
        await w.append('c10-1', recs('b', 2));
        await w.append('c10-2', recs('dropped', 2));
        await w.dropChannel('c10-2');
        const again = await fx.reopen();
        assert.equal(await again.tail('c10-0'), 5n);
        assertRecords(await again.read('c10-0', 0n, 10), 0n, ['a-0', 'a-1', 'a-2', 'a-3', allByteValues()]);
        assertRecords(await again.read('c10-1', 1n, 10), 1n, ['b-1']);
        assert.equal(await again.tail('c10-2'), 0n);
        assert.equal(await again.append('c10-0', recs('c', 1)), 5n);
      }),
    );

    it(
      'operations after close fail with StorageError',
      withWal(async (w) => {
        await w.append('c11-0', recs('a', 1));
        await w.close();
        await assert.rejects(async () => w.append('c11-0', recs('b', 1)), StorageError);
        await assert.rejects(async () => w.read('c11-0', 0n, 1), StorageError);
      }),
    );
  });
}
