/** FileWal guarantees beyond the Wal contract: group commit, segment files, crash recovery, damage refused and repaired. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { inspectWalChannel, repairWalChannel } from '../../lib/adapters/local/file-wal-repair.ts';
import { FileWal } from '../../lib/adapters/local/file-wal.ts';
import { CorruptDataError, NotFoundError, WalCorruptError } from '../../lib/engine/errors.ts';
import { assertBytes, makeTempDir, pseudoRandomBytes, rejectsWith, utf8 } from './contract-helpers.ts';

/** Segment files of a channel, oldest first. */
function segments(root: string, channel: string): string[] {
  return fs
    .readdirSync(path.join(root, channel))
    .filter((n) => n.endsWith('.wal'))
    .sort();
}

/** Runs `body` with a temp directory that is always removed. */
async function inTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = makeTempDir('migrans-filewal-');
  try {
    await body(tmp.dir);
  } finally {
    await tmp.remove();
  }
}

describe('FileWal', () => {
  it('group-commits concurrent appends: 200 single-record appends need far fewer than 200 fsyncs', () =>
    inTemp(async (dir) => {
      const wal = await FileWal.open(dir);
      await wal.append('c1-0', [utf8('warm-up')]); // creates the directory and first segment
      const before = wal.fsyncCount;
      const firsts = await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append('c1-0', [utf8(`r${i}`)])));
      const used = wal.fsyncCount - before;
      assert.ok(used <= 10, `200 concurrent appends used ${used} fsyncs`);
      assert.deepEqual(new Set(firsts).size, 200);
      const all = await wal.read('c1-0', 1n, 1000);
      assert.equal(all.length, 200);
      firsts.forEach((p, i) => assertBytes(all[Number(p) - 1].data, `r${i}`));
      await wal.close();
    }));

  it('writes segment files with the MGWL header and rolls past segmentBytes', () =>
    inTemp(async (dir) => {
      const wal = await FileWal.open(dir, { segmentBytes: 1024 });
      for (let i = 0; i < 10; i++) await wal.append('c2-0', [pseudoRandomBytes(300, i + 1)]);
      const names = segments(dir, 'c2-0');
      assert.ok(names.length >= 3, `expected several segments, got ${names}`);
      assert.equal(names[0], `${'0'.repeat(20)}.wal`);
      const head = fs.readFileSync(path.join(dir, 'c2-0', names[1]));
      assert.equal(head.subarray(0, 4).toString('latin1'), 'MGWL');
      assert.equal(head.readUInt16LE(4), 1);
      assert.equal(head.readBigUInt64LE(6), BigInt(names[1].slice(0, 20)));
      const all = await wal.read('c2-0', 0n, 100);
      all.forEach((r, i) => assertBytes(r.data, pseudoRandomBytes(300, i + 1)));
      await wal.close();
    }));

  it('truncate deletes whole segments before the position and keeps the one holding it', () =>
    inTemp(async (dir) => {
      let wal = await FileWal.open(dir, { segmentBytes: 200 });
      for (let i = 0; i < 12; i++) await wal.append('c3-0', [utf8(`record-${i}`.padEnd(100, '.')), utf8(`small-${i}`)]);
      const starts = segments(dir, 'c3-0').map((n) => BigInt(n.slice(0, 20)));
      const before = starts[3] + 1n; // inside the fourth segment
      await wal.truncate('c3-0', before);
      assert.deepEqual(
        segments(dir, 'c3-0').map((n) => BigInt(n.slice(0, 20))),
        starts.slice(3),
      );
      await rejectsWith(wal.read('c3-0', starts[3], 1), NotFoundError, /truncated/); // in the kept file, but below `before`
      assert.equal((await wal.read('c3-0', before, 1))[0].position, before);
      await wal.close();
      // After a reopen the channel starts at the first remaining segment.
      wal = await FileWal.open(dir, { segmentBytes: 200 });
      assert.equal((await wal.read('c3-0', starts[3], 1))[0].position, starts[3]);
      await rejectsWith(wal.read('c3-0', starts[3] - 1n, 1), NotFoundError, new RegExp(`starts at position ${starts[3]}`));
      assert.equal(await wal.tail('c3-0'), 24n);
      await wal.truncate('c3-0', 24n); // at the tail: the active segment always stays
      assert.equal(segments(dir, 'c3-0').length, 1);
      assert.equal(await wal.append('c3-0', [utf8('next')]), 24n);
      await wal.close();
    }));

  it('random reads after a reopen find records in sealed segments (sparse index) and verify them', () =>
    inTemp(async (dir) => {
      let wal = await FileWal.open(dir, { segmentBytes: 8 * 1024 });
      const n = 2000;
      for (let i = 0; i < n; i += 100) {
        await wal.append(
          'c4-0',
          Array.from({ length: 100 }, (_, j) => utf8(`rec-${i + j}-${'x'.repeat((i + j) % 37)}`)),
        );
      }
      await wal.close();
      wal = await FileWal.open(dir, { segmentBytes: 8 * 1024 });
      for (const p of [1999, 0, 777, 64, 63, 65, 1500, 1024, 1, 1998]) {
        const [r] = await wal.read('c4-0', BigInt(p), 1);
        assertBytes(r.data, `rec-${p}-${'x'.repeat(p % 37)}`, `position ${p}`);
      }
      const span = await wal.read('c4-0', 950n, 200); // crosses segment boundaries
      span.forEach((r, i) => assert.equal(r.position, 950n + BigInt(i)));
      assert.equal(span.length, 200);
      await wal.close();
    }));

  describe('recovers a torn tail by cutting it, keeping every acknowledged record', () => {
    const frame = (len: number, crc: number, payload: Uint8Array) => {
      const b = Buffer.alloc(8 + payload.length);
      b.writeUInt32LE(len, 0);
      b.writeUInt32LE(crc, 4);
      b.set(payload, 8);
      return b;
    };
    const tails: [string, Uint8Array][] = [
      ['a partial frame header', new Uint8Array([5, 0, 0])],
      ['a length running past the end of the file', frame(1000, 0, utf8('only a few bytes'))],
      ['a whole frame with a bad checksum', frame(5, 0xdeadbeef, utf8('hello'))],
      ['a zero-filled tail', new Uint8Array(4096)],
      ['an absurd length', frame(0xffffffff, 0, new Uint8Array(0))],
    ];
    for (const [label, garbage] of tails) {
      it(label, () =>
        inTemp(async (dir) => {
          let wal = await FileWal.open(dir);
          await wal.append('c5-0', [utf8('first'), utf8('second')]);
          await wal.append('c5-0', [utf8('third')]);
          await wal.close();
          const file = path.join(dir, 'c5-0', segments(dir, 'c5-0').at(-1)!);
          const goodSize = fs.statSync(file).size;
          fs.appendFileSync(file, garbage);
          wal = await FileWal.open(dir);
          assert.equal(await wal.tail('c5-0'), 3n);
          assert.equal(fs.statSync(file).size, goodSize, 'torn bytes cut off');
          const all = await wal.read('c5-0', 0n, 10);
          assert.deepEqual(
            all.map((r) => Buffer.from(r.data).toString()),
            ['first', 'second', 'third'],
          );
          assert.equal(await wal.append('c5-0', [utf8('fourth')]), 3n);
          await wal.close();
          wal = await FileWal.open(dir);
          assertBytes((await wal.read('c5-0', 3n, 1))[0].data, 'fourth');
          await wal.close();
        }),
      );
    }

    it('a segment whose creation was interrupted (empty file) is reinitialized', () =>
      inTemp(async (dir) => {
        let wal = await FileWal.open(dir);
        await wal.append('c6-0', [utf8('a'), utf8('b')]);
        await wal.close();
        fs.writeFileSync(path.join(dir, 'c6-0', `${'2'.padStart(20, '0')}.wal`), new Uint8Array(0));
        wal = await FileWal.open(dir);
        assert.equal(await wal.tail('c6-0'), 2n);
        assert.equal(await wal.append('c6-0', [utf8('c')]), 2n);
        assert.deepEqual(
          (await wal.read('c6-0', 0n, 10)).map((r) => Buffer.from(r.data).toString()),
          ['a', 'b', 'c'],
        );
        await wal.close();
      }));
  });

  it('reports damage inside a sealed segment as CorruptDataError', () =>
    inTemp(async (dir) => {
      let wal = await FileWal.open(dir, { segmentBytes: 64 });
      for (let i = 0; i < 4; i++) await wal.append('c7-0', [utf8(`payload-${i}`.repeat(10))]);
      await wal.close();
      const first = path.join(dir, 'c7-0', segments(dir, 'c7-0')[0]);
      const bytes = fs.readFileSync(first);
      bytes[bytes.length - 3] ^= 0xff; // flip a payload byte of an acknowledged record
      fs.writeFileSync(first, bytes);
      wal = await FileWal.open(dir, { segmentBytes: 64 });
      await rejectsWith(wal.read('c7-0', 0n, 10), CorruptDataError);
      assertBytes((await wal.read('c7-0', 1n, 1))[0].data, 'payload-1'.repeat(10)); // other segments are fine
      await wal.close();
    }));

  it('refuses a segment that is not a WAL file and ignores unrelated files', () =>
    inTemp(async (dir) => {
      let wal = await FileWal.open(dir);
      await wal.append('c8-0', [utf8('x')]);
      await wal.close();
      fs.writeFileSync(path.join(dir, 'c8-0', 'notes.txt'), 'unrelated');
      wal = await FileWal.open(dir);
      assert.equal(await wal.tail('c8-0'), 1n);
      await wal.close();
      fs.writeFileSync(path.join(dir, 'c8-0', `${'1'.padStart(20, '0')}.wal`), 'JUNKJUNKJUNKJUNKJUNK');
      wal = await FileWal.open(dir);
      await rejectsWith(wal.tail('c8-0'), CorruptDataError, /MGWL/);
      await wal.dropChannel('c8-0'); // a damaged channel can still be dropped
      assert.equal(await wal.tail('c8-0'), 0n);
      await wal.close();
    }));

  it('acknowledged appends survive kill -9 in the middle of concurrent appends', () =>
    inTemp(async (dir) => {
      const script = path.join(dir, 'appender.mjs');
      const module = pathToFileURL(path.resolve('lib/adapters/local/file-wal.ts')).href;
      fs.writeFileSync(
        script,
        `import { FileWal } from ${JSON.stringify(module)};
const wal = await FileWal.open(${JSON.stringify(path.join(dir, 'wal'))}, { segmentBytes: 16 * 1024 });
const enc = (i) => new TextEncoder().encode('record-' + i + '-' + 'z'.repeat(i % 200));
let i = 0;
async function worker() {
  for (;;) {
    const mine = i++;
    const pos = await wal.append('c9-0', [enc(mine)]);
    process.stdout.write(pos + ' ' + mine + '\\n');
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
`,
      );
      // The child prints "position index"; the kill lands while other appends are in flight.
      const acked = new Map<number, number>();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let buf = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => {
          buf += c.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) {
            const [pos, idx] = l.split(' ').map(Number);
            acked.set(pos, idx);
          }
          if (acked.size >= 400 && !child.killed) child.kill('SIGKILL');
        });
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(err))));
      });
      const wal = await FileWal.open(path.join(dir, 'wal'), { segmentBytes: 16 * 1024 });
      const tail = await wal.tail('c9-0');
      const maxAcked = Math.max(...acked.keys());
      assert.ok(tail > BigInt(maxAcked), `tail ${tail} must cover acknowledged position ${maxAcked}`);
      const all: Uint8Array[] = [];
      for (let p = 0n; p < tail;) {
        const got = await wal.read('c9-0', p, 500);
        all.push(...got.map((r) => r.data));
        p += BigInt(got.length);
      }
      for (const [pos, idx] of acked) assertBytes(all[pos], `record-${idx}-${'z'.repeat(idx % 200)}`, `acknowledged position ${pos}`);
      assert.equal(await wal.append('c9-0', [utf8('after crash')]), tail);
      await wal.close();
    }));

  describe('refuses damage to acknowledged records instead of cutting it', () => {
    // Ten records of 8 bytes: record k's frame starts at byte 14 + 16k of the first segment.
    const frameAt = (k: number) => 14 + 16 * k;
    const rec = (k: number) => utf8(`record-${k}`);
    const write = async (dir: string, channel: string, n: number, segmentBytes?: number) => {
      const wal = await FileWal.open(dir, { segmentBytes });
      for (let k = 0; k < n; k++) await wal.append(channel, [rec(k)]);
      await wal.close();
    };
    const flip = (file: string, at: number) => {
      const bytes = fs.readFileSync(file);
      bytes[at] ^= 0x40;
      fs.writeFileSync(file, bytes);
    };
    const damageOf = async (p: Promise<unknown>): Promise<WalCorruptError> => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof WalCorruptError, `expected WalCorruptError, got ${String(err)}`);
      return err;
    };

    it('a byte flipped inside a record in the middle of the last segment: the channel refuses, naming file and offset, and nothing is cut', () =>
      inTemp(async (dir) => {
        await write(dir, 'd1-0', 10);
        const file = path.join(dir, 'd1-0', segments(dir, 'd1-0')[0]);
        const size = fs.statSync(file).size;
        flip(file, frameAt(4) + 8 + 3); // a payload byte of record 4
        const wal = await FileWal.open(dir);
        const err = await damageOf(wal.tail('d1-0'));
        assert.equal(err.channel, 'd1-0');
        assert.equal(err.file, file);
        assert.equal(err.offset, frameAt(4));
        assert.match(err.message, new RegExp(`byte ${frameAt(4)} of .*${segments(dir, 'd1-0')[0]}.*checksum.*migrans repair`));
        await damageOf(wal.append('d1-0', [utf8('never acknowledged')]));
        await damageOf(wal.read('d1-0', 0n, 10));
        assert.equal(fs.statSync(file).size, size, 'no acknowledged byte was cut');
        await wal.close();
      }));

    it('a damaged length field in the middle is refused too (the scan finds the intact records after it)', () =>
      inTemp(async (dir) => {
        await write(dir, 'd2-0', 10);
        const file = path.join(dir, 'd2-0', segments(dir, 'd2-0')[0]);
        flip(file, frameAt(6) + 1); // length 8 becomes 8 + 64 * 256
        const wal = await FileWal.open(dir);
        assert.equal((await damageOf(wal.tail('d2-0'))).offset, frameAt(6));
        await wal.close();
      }));

    it('a byte flipped in an earlier segment: reading it fails naming file and offset, and the channel then refuses appends', () =>
      inTemp(async (dir) => {
        await write(dir, 'd3-0', 12, 64); // several segments of a few records each
        const names = segments(dir, 'd3-0');
        assert.ok(names.length >= 3);
        const first = path.join(dir, 'd3-0', names[0]);
        flip(first, frameAt(1) + 8);
        const wal = await FileWal.open(dir, { segmentBytes: 64 });
        assert.equal(await wal.tail('d3-0'), 12n); // the last segment is intact
        const err = await damageOf(wal.read('d3-0', 0n, 12));
        assert.equal(err.file, first);
        assert.equal(err.offset, frameAt(1));
        await damageOf(wal.append('d3-0', [utf8('would never be read back in order')]));
        assert.equal(await wal.tail('d3-0'), 12n, 'the refused append added nothing');
        await wal.close();
      }));

    it('repair above the checkpoint cuts the log at the damage; the channel then serves and appends from there', () =>
      inTemp(async (dir) => {
        await write(dir, 'd4-0', 10);
        flip(path.join(dir, 'd4-0', segments(dir, 'd4-0')[0]), frameAt(4) + 9);
        const damage = (await inspectWalChannel(dir, 'd4-0', 2n))!;
        assert.equal(damage.position, 4n);
        assert.equal(damage.recordsAfter, 5, 'records 5..9 are lost by the cut');
        assert.equal(damage.action.kind, 'truncate');
        await repairWalChannel(damage);
        assert.equal(await inspectWalChannel(dir, 'd4-0', 2n), undefined);
        const wal = await FileWal.open(dir);
        assert.equal(await wal.tail('d4-0'), 4n);
        assert.deepEqual(
          (await wal.read('d4-0', 0n, 10)).map((r) => Buffer.from(r.data).toString()),
          [0, 1, 2, 3].map((k) => `record-${k}`),
        );
        assert.equal(await wal.append('d4-0', [utf8('next')]), 4n);
        await wal.close();
      }));

    it('repair below the checkpoint keeps every record from the checkpoint on, at its position', () =>
      inTemp(async (dir) => {
        await write(dir, 'd5-0', 10);
        flip(path.join(dir, 'd5-0', segments(dir, 'd5-0')[0]), frameAt(4) + 9);
        const damage = (await inspectWalChannel(dir, 'd5-0', 7n))!;
        assert.equal(damage.action.kind, 'rebase');
        await repairWalChannel(damage);
        const wal = await FileWal.open(dir);
        assert.equal(await wal.tail('d5-0'), 10n);
        const rest = await wal.read('d5-0', 7n, 10);
        assert.deepEqual(
          rest.map((r) => [r.position, Buffer.from(r.data).toString()]),
          [7n, 8n, 9n].map((p) => [p, `record-${p}`]),
        );
        await rejectsWith(wal.read('d5-0', 4n, 1), NotFoundError, /starts at position 5/);
        await wal.close();
      }));

    it('repair below the checkpoint in an earlier segment deletes the segments before the checkpoint', () =>
      inTemp(async (dir) => {
        await write(dir, 'd6-0', 12, 64);
        const names = segments(dir, 'd6-0');
        flip(path.join(dir, 'd6-0', names[0]), frameAt(1) + 8);
        const checkpoint = BigInt(names[2].slice(0, 20));
        const damage = (await inspectWalChannel(dir, 'd6-0', checkpoint))!;
        assert.equal(damage.action.kind, 'drop-segments');
        await repairWalChannel(damage);
        assert.equal(await inspectWalChannel(dir, 'd6-0', checkpoint), undefined);
        const wal = await FileWal.open(dir, { segmentBytes: 64 });
        const rest = await wal.read('d6-0', checkpoint, 20);
        assert.deepEqual(
          rest.map((r) => Buffer.from(r.data).toString()),
          Array.from({ length: 12 - Number(checkpoint) }, (_, i) => `record-${Number(checkpoint) + i}`),
        );
        await wal.close();
      }));
  });

  it('refuses a non-positive segment size', () => {
    assert.throws(() => new FileWal('/tmp/x', { segmentBytes: 0 }), /segmentBytes/);
  });
});
