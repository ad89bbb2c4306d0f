/**
 * The KvStore contract: behaviour every adapter (memory, LMDB, DynamoDB) must show. Registers
 * node:test cases; each case gets a fresh, empty store from `make`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageError } from '../../lib/engine/errors.ts';
import { MAX_ATOMIC_WRITES, type KvStore, type KvWrite } from '../../lib/engine/ports/kv-store.ts';
import { allByteValues, assertBytes, byteSorted, collect, fails, TRICKY_KEYS, utf8 } from './contract-helpers.ts';

/** A store under test. */
export interface KvStoreFixture {
  store: KvStore;
  /** Closes the current store and opens a new one over the same data (omit without persistence). */
  reopen?(): Promise<KvStore>;
  /** Closes the latest store and removes everything the fixture created. */
  cleanup(): Promise<void>;
}

/** Registers the KvStore contract for one adapter. */
export function kvStoreContract(name: string, make: () => Promise<KvStoreFixture>): void {
  const withStore = (body: (store: KvStore, fx: KvStoreFixture) => Promise<void>) => async () => {
    const fx = await make();
    try {
      await body(fx.store, fx);
    } finally {
      await fx.cleanup();
    }
  };
  const keysOf = async (s: KvStore, range: Parameters<KvStore['scan']>[0]) => (await collect(s.scan(range))).map((e) => e.key);

  describe(`KvStore contract: ${name}`, () => {
    it(
      'get of a missing key is undefined; put/get round-trips every byte value and empty values',
      withStore(async (s) => {
        assert.equal(await s.get('nope'), undefined);
        await s.put('bin', allByteValues());
        assertBytes(await s.get('bin'), allByteValues());
        await s.put('empty', new Uint8Array(0));
        assertBytes(await s.get('empty'), new Uint8Array(0));
        await s.put('bin', utf8('replaced'));
        assertBytes(await s.get('bin'), 'replaced');
      }),
    );

    it(
      'batchGet answers in the order asked, undefined for missing, repeats allowed',
      withStore(async (s) => {
        await s.batchPut([
          { key: 'b/1', value: utf8('one') },
          { key: 'b/2', value: utf8('two') },
        ]);
        const got = await s.batchGet(['b/2', 'b/missing', 'b/1', 'b/2']);
        assert.equal(got.length, 4);
        assertBytes(got[0], 'two');
        assert.equal(got[1], undefined);
        assertBytes(got[2], 'one');
        assertBytes(got[3], 'two');
        assert.deepEqual(await s.batchGet([]), []);
      }),
    );

    it(
      'delete and batchDelete remove keys; missing keys are not an error',
      withStore(async (s) => {
        await s.batchPut(['x/1', 'x/2', 'x/3', 'x/4'].map((key) => ({ key, value: utf8(key) })));
        await s.delete('x/1');
        await s.delete('x/1');
        await s.batchDelete(['x/2', 'x/3', 'x/never']);
        assert.deepEqual(await keysOf(s, { prefix: 'x/' }), ['x/4']);
      }),
    );

    it(
      'scan returns keys in UTF-8 byte order with their values',
      withStore(async (s) => {
        for (const k of [...TRICKY_KEYS].reverse()) await s.put(k, utf8(`v:${k}`));
        const entries = await collect(s.scan({}));
        assert.deepEqual(
          entries.map((e) => e.key),
          byteSorted(TRICKY_KEYS),
        );
        for (const e of entries) assertBytes(e.value, `v:${e.key}`);
      }),
    );

    it(
      'scan honours start (inclusive), end (exclusive), prefix and limit',
      withStore(async (s) => {
        const keys = ['a', 'a/1', 'a/2', 'a/3', 'a/30', 'a0', 'b', 'b/1'];
        await s.batchPut(keys.map((key) => ({ key, value: utf8(key) })));
        assert.deepEqual(await keysOf(s, { start: 'a/2' }), ['a/2', 'a/3', 'a/30', 'a0', 'b', 'b/1']);
        assert.deepEqual(await keysOf(s, { end: 'a/3' }), ['a', 'a/1', 'a/2']);
        assert.deepEqual(await keysOf(s, { start: 'a/1', end: 'a/3' }), ['a/1', 'a/2']);
        assert.deepEqual(await keysOf(s, { prefix: 'a/' }), ['a/1', 'a/2', 'a/3', 'a/30']);
        assert.deepEqual(await keysOf(s, { prefix: 'a' }), ['a', 'a/1', 'a/2', 'a/3', 'a/30', 'a0']);
        assert.deepEqual(await keysOf(s, { prefix: 'a/', start: 'a/2' }), ['a/2', 'a/3', 'a/30']);
        assert.deepEqual(await keysOf(s, { prefix: 'a/', start: 'a' }), ['a/1', 'a/2', 'a/3', 'a/30']); // start before the prefix
        assert.deepEqual(await keysOf(s, { prefix: 'a/', end: 'a/3' }), ['a/1', 'a/2']);
        assert.deepEqual(await keysOf(s, { prefix: 'a/', start: 'b' }), []); // start past the prefix
        assert.deepEqual(await keysOf(s, { prefix: 'a/', limit: 2 }), ['a/1', 'a/2']);
        assert.deepEqual(await keysOf(s, { limit: 0 }), []);
        assert.deepEqual(await keysOf(s, { start: 'c' }), []);
        assert.deepEqual(await keysOf(s, { start: 'b', end: 'a' }), []); // empty range
        assert.deepEqual(await keysOf(s, { prefix: 'zz' }), []);
        await fails(() => collect(s.scan({ limit: -1 })));
      }),
    );

    it(
      'scan pages through many keys and stops early when the consumer breaks',
      withStore(async (s) => {
        const keys = Array.from({ length: 1300 }, (_, i) => `m/${String(i).padStart(5, '0')}`);
        await s.batchPut(keys.map((key) => ({ key, value: utf8(key) })));
        assert.deepEqual(await keysOf(s, { prefix: 'm/' }), keys);
        assert.deepEqual(await keysOf(s, { prefix: 'm/', limit: 700 }), keys.slice(0, 700));
        assert.deepEqual(await keysOf(s, { prefix: 'm/', start: 'm/00600', limit: 600 }), keys.slice(600, 1200));
        let n = 0;
        for await (const _ of s.scan({ prefix: 'm/' })) if (++n === 3) break;
        await s.put('m/after-break', utf8('ok')); // the store still works
        assertBytes(await s.get('m/after-break'), 'ok');
      }),
    );

    it(
      'scan tolerates writes between entries',
      withStore(async (s) => {
        await s.batchPut(['w/1', 'w/2', 'w/3'].map((key) => ({ key, value: utf8(key) })));
        const seen: string[] = [];
        for await (const e of s.scan({ prefix: 'w/' })) {
          seen.push(e.key);
          if (e.key === 'w/1') {
            await s.put('w/0', utf8('before the cursor'));
            await s.delete('w/3');
          }
        }
        assert.equal(seen[0], 'w/1');
        assert.ok(seen.includes('w/2'));
        assert.ok(!seen.includes('w/0'), 'a key inserted behind the cursor is not revisited');
      }),
    );

    it(
      'deleteRange removes [start, end) and returns the count',
      withStore(async (s) => {
        const keys = ['r/1', 'r/2', 'r/3', 'r/4', 'r/5'];
        await s.batchPut(keys.map((key) => ({ key, value: utf8(key) })));
        assert.equal(await s.deleteRange({ start: 'r/2', end: 'r/4' }), 2);
        assert.deepEqual(await keysOf(s, { prefix: 'r/' }), ['r/1', 'r/4', 'r/5']);
        assert.equal(await s.deleteRange({ start: 'r/2', end: 'r/4' }), 0);
        assert.equal(await s.deleteRange({ start: 'r/5', end: 'r/1' }), 0); // inverted: nothing
        assert.equal(await s.deleteRange({ start: 'r/0', end: 'r/9' }), 3);
      }),
    );

    it(
      'deletePrefix removes the raw prefix, plain and versioned keys alike, and returns the count',
      withStore(async (s) => {
        await s.batchPut(['p/1', 'p/2', 'p2', 'q/1'].map((key) => ({ key, value: utf8(key) })));
        assert.equal(await s.putIfNewer('p/v', utf8('versioned'), 5n), true);
        assert.equal(await s.deletePrefix('p/'), 3);
        assert.equal(await s.getVersioned('p/v'), undefined);
        assert.deepEqual(await keysOf(s, {}), ['p2', 'q/1']);
        assert.equal(await s.deletePrefix('p/'), 0);
        assert.equal(await s.putIfNewer('p/v', utf8('fresh'), 1n), true); // version history went with the key
        await fails(() => s.deletePrefix(''));
      }),
    );

    it(
      'putIfNewer stores when absent or newer, refuses equal or older versions',
      withStore(async (s) => {
        assert.equal(await s.putIfNewer('pk/1', utf8('v10'), 10n), true);
        assert.deepEqual(await s.getVersioned('pk/1').then((v) => v?.version), 10n);
        assert.equal(await s.putIfNewer('pk/1', utf8('v5'), 5n), false);
        assert.equal(await s.putIfNewer('pk/1', utf8('v10b'), 10n), false);
        const kept = await s.getVersioned('pk/1');
        assertBytes(kept?.value, 'v10');
        assert.equal(kept?.version, 10n);
        assert.equal(await s.putIfNewer('pk/1', utf8('v11'), 11n), true);
        const newer = await s.getVersioned('pk/1');
        assertBytes(newer?.value, 'v11');
        assert.equal(newer?.version, 11n);
        assert.equal(await s.getVersioned('pk/none'), undefined);
      }),
    );

    it(
      'versions use the full unsigned 64-bit range (hybrid timestamps exceed 2^53)',
      withStore(async (s) => {
        const big = (1n << 63n) + 12345n;
        assert.equal(await s.putIfNewer('ver/big', allByteValues(), big), true);
        assert.equal(await s.putIfNewer('ver/big', utf8('x'), big - 1n), false); // not rounded to a double
        const got = await s.getVersioned('ver/big');
        assert.equal(got?.version, big);
        assertBytes(got?.value, allByteValues());
        assert.equal(await s.putIfNewer('ver/max', new Uint8Array(0), (1n << 64n) - 1n), true);
        assert.equal((await s.getVersioned('ver/max'))?.version, (1n << 64n) - 1n);
        assertBytes((await s.getVersioned('ver/max'))?.value, new Uint8Array(0));
        assert.equal(await s.putIfNewer('ver/zero', utf8('z'), 0n), true);
        await fails(() => s.putIfNewer('ver/neg', utf8('x'), -1n));
        await fails(() => s.putIfNewer('ver/huge', utf8('x'), 1n << 64n));
        await fails(() => s.putIfNewer('ver/num', utf8('x'), 5 as unknown as bigint));
      }),
    );

    it(
      'batchPutIfNewer decides per entry; batchGetVersioned answers in order',
      withStore(async (s) => {
        await s.putIfNewer('bv/a', utf8('a5'), 5n);
        await s.putIfNewer('bv/b', utf8('b5'), 5n);
        const stored = await s.batchPutIfNewer([
          { key: 'bv/a', value: utf8('a4'), version: 4n },
          { key: 'bv/b', value: utf8('b6'), version: 6n },
          { key: 'bv/c', value: utf8('c1'), version: 1n },
          { key: 'bv/a', value: utf8('a5b'), version: 5n },
        ]);
        assert.deepEqual(stored, [false, true, true, false]);
        const got = await s.batchGetVersioned(['bv/c', 'bv/missing', 'bv/a', 'bv/b']);
        assert.equal(got[0]?.version, 1n);
        assertBytes(got[0]?.value, 'c1');
        assert.equal(got[1], undefined);
        assertBytes(got[2]?.value, 'a5');
        assert.equal(got[3]?.version, 6n);
        assertBytes(got[3]?.value, 'b6');
        assert.deepEqual(await s.batchPutIfNewer([]), []);
      }),
    );

    it(
      'concurrent putIfNewer on one key: the highest version wins',
      withStore(async (s) => {
        const versions = Array.from({ length: 40 }, (_, i) => BigInt(((i * 17) % 40) + 1));
        const results = await Promise.all(versions.map((v) => s.putIfNewer('race', utf8(`v${v}`), v)));
        assert.ok(
          results.some((r) => r),
          'at least one stored',
        );
        const got = await s.getVersioned('race');
        assert.equal(got?.version, 40n);
        assertBytes(got?.value, 'v40');
      }),
    );

    it(
      'batchPutIfNewer handles large batches',
      withStore(async (s) => {
        const entries = Array.from({ length: 10_000 }, (_, i) => ({ key: `big/${i}`, value: utf8(String(i)), version: BigInt(i) }));
        const stored = await s.batchPutIfNewer(entries);
        assert.equal(stored.filter(Boolean).length, 10_000);
        const again = await s.batchPutIfNewer(entries.map((e) => ({ ...e, version: e.version + (e.version % 2n === 0n ? 1n : 0n) })));
        assert.equal(again.filter(Boolean).length, 5_000);
        const got = await s.batchGetVersioned(['big/0', 'big/9999']);
        assert.equal(got[0]?.version, 1n);
        assert.equal(got[1]?.version, 9999n);
      }),
    );

    it(
      'versioned keys stay out of plain scans',
      withStore(async (s) => {
        await s.put('ns/plain', utf8('p'));
        await s.putIfNewer('ns/versioned', utf8('v'), 1n);
        assert.deepEqual(await keysOf(s, { prefix: 'ns/' }), ['ns/plain']);
      }),
    );

    it(
      'write applies puts and deletes together',
      withStore(async (s) => {
        await s.put('t/old', utf8('old'));
        await s.write([
          { type: 'put', key: 't/new', value: utf8('new') },
          { type: 'delete', key: 't/old' },
          { type: 'put', key: 't/other', value: allByteValues() },
        ]);
        assert.deepEqual(await keysOf(s, { prefix: 't/' }), ['t/new', 't/other']);
        assertBytes(await s.get('t/other'), allByteValues());
        await s.write([]);
      }),
    );

    it(
      `write accepts ${MAX_ATOMIC_WRITES} operations and rejects ${MAX_ATOMIC_WRITES + 1} without applying any`,
      withStore(async (s) => {
        const ops = (n: number, tag: string): KvWrite[] => Array.from({ length: n }, (_, i) => ({ type: 'put', key: `w/${tag}/${i}`, value: utf8(tag) }));
        await s.write(ops(MAX_ATOMIC_WRITES, 'max'));
        assert.equal((await keysOf(s, { prefix: 'w/max/' })).length, MAX_ATOMIC_WRITES);
        await fails(() => s.write(ops(MAX_ATOMIC_WRITES + 1, 'over')), new RegExp(`${MAX_ATOMIC_WRITES + 1}.*${MAX_ATOMIC_WRITES}`));
        assert.deepEqual(await keysOf(s, { prefix: 'w/over/' }), []);
      }),
    );

    it(
      'write with one bad operation applies none of them',
      withStore(async (s) => {
        await s.put('bad/keep', utf8('keep'));
        const bad: KvWrite[] = [
          { type: 'delete', key: 'bad/keep' },
          { type: 'put', key: 'bad/new', value: utf8('x') },
          { type: 'put', key: '', value: utf8('empty key') },
        ];
        await fails(() => s.write(bad));
        const dup: KvWrite[] = [
          { type: 'put', key: 'bad/dup', value: utf8('1') },
          { type: 'delete', key: 'bad/keep' },
          { type: 'put', key: 'bad/dup', value: utf8('2') },
        ];
        await fails(() => s.write(dup), /bad\/dup/);
        assert.deepEqual(await keysOf(s, { prefix: 'bad/' }), ['bad/keep']);
      }),
    );

    it(
      'reads values during the call: mutating them before the write resolves changes nothing',
      withStore(async (s) => {
        const a = utf8('put');
        const b = utf8('batch');
        const c = utf8('write');
        const d = utf8('versioned');
        const pending = [s.put('now/a', a), s.batchPut([{ key: 'now/b', value: b }]), s.write([{ type: 'put', key: 'now/c', value: c }]), s.putIfNewer('now/d', d, 1n)];
        for (const x of [a, b, c, d]) x.fill(0x21);
        await Promise.all(pending);
        assertBytes(await s.get('now/a'), 'put');
        assertBytes(await s.get('now/b'), 'batch');
        assertBytes(await s.get('now/c'), 'write');
        assertBytes((await s.getVersioned('now/d'))?.value, 'versioned');
      }),
    );

    it(
      'does not alias caller buffers',
      withStore(async (s) => {
        const v = utf8('stored');
        await s.put('alias', v);
        v.fill(0);
        const out = await s.get('alias');
        assertBytes(out, 'stored');
        out!.fill(0);
        assertBytes(await s.get('alias'), 'stored');
        const vv = utf8('versioned');
        await s.putIfNewer('alias/v', vv, 1n);
        vv.fill(0);
        assertBytes((await s.getVersioned('alias/v'))?.value, 'versioned');
      }),
    );

    it(
      'rejects empty and over-long keys and non-byte values',
      withStore(async (s) => {
        await fails(() => s.put('', utf8('x')));
        await fails(() => s.put('k'.repeat(1025), utf8('x')), /1025/);
        await s.put('k'.repeat(1024), utf8('longest allowed'));
        await fails(() => s.put('é'.repeat(513), utf8('x'))); // 1026 UTF-8 bytes
        await fails(() => s.put('v', 'text' as unknown as Uint8Array));
        await fails(() => s.get(42 as unknown as string));
      }),
    );

    it(
      'a reopened store holds every acknowledged write (adapters with persistence)',
      withStore(async (s, fx) => {
        if (!fx.reopen) return;
        await s.put('keep/plain', allByteValues());
        await s.batchPut([{ key: 'keep/b', value: utf8('b') }]);
        await s.putIfNewer('keep/v', utf8('v7'), 7n);
        await s.write([{ type: 'put', key: 'keep/w', value: utf8('w') }]);
        await s.put('gone', utf8('x'));
        await s.delete('gone');
        const again = await fx.reopen();
        assertBytes(await again.get('keep/plain'), allByteValues());
        assert.deepEqual(await keysOf(again, {}), ['keep/b', 'keep/plain', 'keep/w']);
        assert.equal((await again.getVersioned('keep/v'))?.version, 7n);
        assert.equal(await again.putIfNewer('keep/v', utf8('v6'), 6n), false);
      }),
    );

    it(
      'operations after close fail with StorageError',
      withStore(async (s) => {
        await s.put('c', utf8('c'));
        await s.close();
        await assert.rejects(async () => s.get('c'), StorageError);
        await assert.rejects(async () => s.put('c', utf8('d')), StorageError);
      }),
    );
  });
}
