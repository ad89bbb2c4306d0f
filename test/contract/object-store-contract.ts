/**
 * The ObjectStore contract: behaviour every adapter (memory, local files, S3) must show. Registers
 * node:test cases; each case gets a fresh, empty store from `make`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../lib/engine/errors.ts';
import type { ObjectStore } from '../../lib/engine/ports/object-store.ts';
import { allByteValues, assertBytes, byteSorted, fails, pseudoRandomBytes, rejectsWith, TRICKY_KEYS, utf8 } from './contract-helpers.ts';

/** A store under test. */
export interface ObjectStoreFixture {
  store: ObjectStore;
  /** A new store instance over the same data (omit for adapters without persistence). */
  reopen?(): Promise<ObjectStore>;
  /** Removes everything the fixture created. */
  cleanup(): Promise<void>;
}

/** Registers the ObjectStore contract for one adapter. */
export function objectStoreContract(name: string, make: () => Promise<ObjectStoreFixture>): void {
  /** Runs `body` against a fresh store and always cleans up. */
  const withStore = (body: (store: ObjectStore, fx: ObjectStoreFixture) => Promise<void>) => async () => {
    const fx = await make();
    try {
      await body(fx.store, fx);
    } finally {
      await fx.cleanup();
    }
  };

  describe(`ObjectStore contract: ${name}`, () => {
    it(
      'round-trips bytes, including every byte value and a multi-megabyte object',
      withStore(async (s) => {
        await s.put('bin/all', allByteValues());
        assertBytes(await s.get('bin/all'), allByteValues());
        const big = pseudoRandomBytes(3 * 1024 * 1024 + 17, 7);
        await s.put('bin/big', big);
        assertBytes(await s.get('bin/big'), big);
        assert.equal(await s.exists('bin/big'), true);
      }),
    );

    it(
      'stores empty objects: they exist, list, and read back as zero bytes',
      withStore(async (s) => {
        await s.put('e/empty', new Uint8Array(0));
        assert.equal(await s.exists('e/empty'), true);
        assertBytes(await s.get('e/empty'), new Uint8Array(0));
        assertBytes(await s.getRange('e/empty', 0, 10), new Uint8Array(0));
        assert.deepEqual(await s.list('e/'), ['e/empty']);
      }),
    );

    it(
      'overwrites replace the whole object (no bytes of a longer old version remain)',
      withStore(async (s) => {
        await s.put('o', utf8('a much longer first version'));
        await s.put('o', utf8('short'));
        assertBytes(await s.get('o'), 'short');
      }),
    );

    it(
      'get, getRange of a missing key throw NotFoundError; exists is false',
      withStore(async (s) => {
        await rejectsWith(s.get('missing/x'), NotFoundError, /missing\/x/);
        await rejectsWith(s.getRange('missing/x', 0, 1), NotFoundError);
        assert.equal(await s.exists('missing/x'), false);
        await s.put('missing/xy', utf8('1'));
        await rejectsWith(s.get('missing/x'), NotFoundError); // a longer key is not the key
        await rejectsWith(s.get('missing'), NotFoundError); // nor is a prefix of keys
        assert.equal(await s.exists('missing'), false);
      }),
    );

    it(
      'getRange returns the requested slice, fewer bytes at the end, empty past the end',
      withStore(async (s) => {
        const data = allByteValues();
        await s.put('r', data);
        assertBytes(await s.getRange('r', 0, 10), data.subarray(0, 10));
        assertBytes(await s.getRange('r', 100, 50), data.subarray(100, 150));
        assertBytes(await s.getRange('r', 250, 6), data.subarray(250, 256)); // exactly to the end
        assertBytes(await s.getRange('r', 250, 100), data.subarray(250)); // clipped
        assertBytes(await s.getRange('r', 256, 10), new Uint8Array(0)); // at the end
        assertBytes(await s.getRange('r', 1000, 10), new Uint8Array(0)); // past the end
        assertBytes(await s.getRange('r', 5, 0), new Uint8Array(0));
        await fails(() => s.getRange('r', -1, 10));
        await fails(() => s.getRange('r', 0, -1));
        await fails(() => s.getRange('r', 1.5, 1));
      }),
    );

    it(
      'list returns keys sorted by UTF-8 bytes',
      withStore(async (s) => {
        for (const k of [...TRICKY_KEYS].reverse()) await s.put(k, utf8(k));
        assert.deepEqual(await s.list('k/'), byteSorted(TRICKY_KEYS));
        assert.deepEqual(await s.list(''), byteSorted(TRICKY_KEYS));
      }),
    );

    it(
      "list prefixes are raw: 'a/b' matches 'a/bc', 'a/b/' does not",
      withStore(async (s) => {
        for (const k of ['a/b/1', 'a/b/2/deep', 'a/bc', 'a/bd/x', 'a/c', 'ab', 'b/b/1']) await s.put(k, utf8(k));
        assert.deepEqual(await s.list('a/b/'), ['a/b/1', 'a/b/2/deep']);
        assert.deepEqual(await s.list('a/b'), ['a/b/1', 'a/b/2/deep', 'a/bc', 'a/bd/x']);
        assert.deepEqual(await s.list('a/'), ['a/b/1', 'a/b/2/deep', 'a/bc', 'a/bd/x', 'a/c']);
        assert.deepEqual(await s.list('a'), ['a/b/1', 'a/b/2/deep', 'a/bc', 'a/bd/x', 'a/c', 'ab']);
        assert.deepEqual(await s.list('a/b/2/deep'), ['a/b/2/deep']); // a whole key is a prefix of itself
        assert.deepEqual(await s.list('zzz'), []);
        assert.deepEqual(await s.list('a/x/'), []);
      }),
    );

    it(
      'delete removes one object, leaves its neighbours, and ignores missing keys',
      withStore(async (s) => {
        await s.put('d/1', utf8('1'));
        await s.put('d/10', utf8('10'));
        await s.put('d/1x/y', utf8('y'));
        await s.delete('d/1');
        assert.equal(await s.exists('d/1'), false);
        await rejectsWith(s.get('d/1'), NotFoundError);
        assert.deepEqual(await s.list('d/'), ['d/10', 'd/1x/y']);
        await s.delete('d/1'); // again: not an error
        await s.delete('never/existed');
        await s.delete('d/1x/y');
        assert.deepEqual(await s.list('d/'), ['d/10']);
        await s.put('d/1x/y', utf8('again')); // a pruned "directory" can be written again
        assertBytes(await s.get('d/1x/y'), 'again');
      }),
    );

    it(
      'deletePrefix removes exactly the raw prefix and returns the count',
      withStore(async (s) => {
        for (const k of ['p/a/1', 'p/a/2', 'p/a/sub/3', 'p/ab', 'p/b']) await s.put(k, utf8(k));
        assert.equal(await s.deletePrefix('p/a/'), 3);
        assert.deepEqual(await s.list('p/'), ['p/ab', 'p/b']);
        assert.equal(await s.deletePrefix('p/a/'), 0);
        assert.equal(await s.deletePrefix('p/a'), 1);
        assert.deepEqual(await s.list('p/'), ['p/b']);
        assert.equal(await s.deletePrefix('nothing/'), 0);
        await fails(() => s.deletePrefix('')); // would wipe the store
        assert.deepEqual(await s.list(''), ['p/b']);
      }),
    );

    it(
      'deletePrefix handles many objects',
      withStore(async (s) => {
        await Promise.all(Array.from({ length: 300 }, (_, i) => s.put(`many/${String(i).padStart(3, '0')}`, utf8(String(i)))));
        assert.equal((await s.list('many/')).length, 300);
        assert.equal(await s.deletePrefix('many/'), 300);
        assert.deepEqual(await s.list('many/'), []);
      }),
    );

    it(
      'does not alias caller buffers: mutating input or output does not change the stored object',
      withStore(async (s) => {
        const input = utf8('original');
        await s.put('alias', input);
        input.fill(0);
        const out = await s.get('alias');
        assertBytes(out, 'original');
        out.fill(0);
        assertBytes(await s.get('alias'), 'original');
        assertBytes(await s.getRange('alias', 0, 4), 'orig');
      }),
    );

    it(
      'rejects malformed keys without storing anything',
      withStore(async (s) => {
        for (const bad of ['', '/abs', 'a/../b', '..', 'a/./b', 'a//b', 'trailing/', 'nul\0byte']) {
          await fails(() => s.put(bad, utf8('x')), /key/);
        }
        await fails(() => s.put('ok', 'not bytes' as unknown as Uint8Array));
        assert.deepEqual(await s.list(''), []);
      }),
    );

    it(
      'concurrent puts: distinct keys all land; one key ends with one whole version',
      withStore(async (s) => {
        const a = pseudoRandomBytes(64 * 1024, 1);
        const b = pseudoRandomBytes(64 * 1024, 2);
        await Promise.all([...Array.from({ length: 50 }, (_, i) => s.put(`c/${i}`, utf8(`v${i}`))), s.put('c/same', a), s.put('c/same', b)]);
        assert.equal((await s.list('c/')).length, 51);
        for (let i = 0; i < 50; i++) assertBytes(await s.get(`c/${i}`), `v${i}`);
        const got = await s.get('c/same');
        assert.ok(Buffer.from(got).equals(Buffer.from(a)) || Buffer.from(got).equals(Buffer.from(b)), 'c/same must be one whole version');
      }),
    );

    it(
      'a reopened store sees every object (adapters with persistence)',
      withStore(async (s, fx) => {
        if (!fx.reopen) return;
        await s.put('keep/1', allByteValues());
        await s.put('keep/2', new Uint8Array(0));
        await s.put('gone', utf8('x'));
        await s.delete('gone');
        const again = await fx.reopen();
        assertBytes(await again.get('keep/1'), allByteValues());
        assert.deepEqual(await again.list(''), ['keep/1', 'keep/2']);
      }),
    );
  });
}
