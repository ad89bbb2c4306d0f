/** Runs the ObjectStore contract against every adapter, then checks what only the file store promises. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FileObjectStore } from '../../lib/adapters/local/file-object-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { StorageError } from '../../lib/engine/errors.ts';
import { assertBytes, fails, makeTempDir, pseudoRandomBytes, utf8 } from './contract-helpers.ts';
import { objectStoreContract } from './object-store-contract.ts';

objectStoreContract('memory', async () => ({ store: new MemoryObjectStore(), cleanup: async () => {} }));

objectStoreContract('local files', async () => {
  const tmp = makeTempDir('migrans-objects-');
  return {
    store: new FileObjectStore(tmp.dir),
    reopen: async () => new FileObjectStore(tmp.dir),
    cleanup: tmp.remove,
  };
});

describe('FileObjectStore specifics', () => {
  it('keeps objects as plain files at localPath, with the temp area out of listings', async () => {
    const tmp = makeTempDir('migrans-objects-');
    try {
      const s = new FileObjectStore(tmp.dir);
      await s.put('idx/seg-1.hnsw', utf8('index bytes'));
      const p = s.localPath('idx/seg-1.hnsw');
      assert.equal(p, path.join(tmp.dir, 'idx', 'seg-1.hnsw'));
      assert.equal(fs.readFileSync(p, 'utf8'), 'index bytes');
      assert.deepEqual(await s.list(''), ['idx/seg-1.hnsw']);
      assert.deepEqual(fs.readdirSync(path.join(tmp.dir, '.migrans-tmp')), [], 'no temp files left behind');
      await fails(() => s.put('.migrans-tmp/x', utf8('x')), /reserved/);
      assert.throws(() => s.localPath('../escape'), /\.\./);
    } finally {
      await tmp.remove();
    }
  });

  it('put is atomic: concurrent readers see the old or the new object, never a mix', async () => {
    const tmp = makeTempDir('migrans-objects-');
    try {
      const s = new FileObjectStore(tmp.dir);
      const a = new Uint8Array(2 * 1024 * 1024).fill(0xaa);
      const b = new Uint8Array(2 * 1024 * 1024).fill(0xbb);
      await s.put('atomic', a);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; i < 10; i++) await s.put('atomic', i % 2 ? a : b);
        writing = false;
      })();
      let reads = 0;
      while (writing) {
        const got = await s.get('atomic');
        assert.equal(got.length, a.length, 'never a partial object');
        assert.ok(
          got.every((x) => x === got[0]),
          'never a mix of two versions',
        );
        reads++;
      }
      await writer;
      assert.ok(reads > 0);
    } finally {
      await tmp.remove();
    }
  });

  it('a key that is also a directory of other keys fails clearly', async () => {
    const tmp = makeTempDir('migrans-objects-');
    try {
      const s = new FileObjectStore(tmp.dir);
      await s.put('a/b', utf8('1'));
      await assert.rejects(s.put('a', utf8('2')), (err: Error) => err instanceof StorageError && /prefix|directory/.test(err.message));
      await assert.rejects(s.put('a/b/c', utf8('3')), (err: Error) => err instanceof StorageError && /already an object/.test(err.message));
      assertBytes(await s.get('a/b'), '1');
      assert.deepEqual(await s.list(''), ['a/b']);
    } finally {
      await tmp.remove();
    }
  });

  it('deletes prune emptied directories and leftover temp files of a crash are cleared', async () => {
    const tmp = makeTempDir('migrans-objects-');
    try {
      const s = new FileObjectStore(tmp.dir);
      await s.put('deep/er/still/x', pseudoRandomBytes(10));
      await s.put('deep/y', pseudoRandomBytes(10));
      await s.delete('deep/er/still/x');
      assert.equal(fs.existsSync(path.join(tmp.dir, 'deep', 'er')), false);
      assert.equal(await s.deletePrefix('deep/'), 1);
      assert.equal(fs.existsSync(path.join(tmp.dir, 'deep')), false);
      // A stale temp file (a put that crashed before its rename) is swept by the next store.
      const stale = path.join(tmp.dir, '.migrans-tmp', 'crashed');
      fs.writeFileSync(stale, 'half');
      const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
      fs.utimesSync(stale, old, old);
      const s2 = new FileObjectStore(tmp.dir);
      await s2.put('z', utf8('z'));
      assert.equal(fs.existsSync(stale), false);
    } finally {
      await tmp.remove();
    }
  });

  it('a delete by prefix retried after a crash removes the folders the first attempt emptied', async () => {
    const tmp = makeTempDir('migrans-objects-');
    try {
      const s = new FileObjectStore(tmp.dir);
      await s.put('insert_log/7/_default/2/100/1', pseudoRandomBytes(10));
      await s.put('insert_log/7/_default/3/100/1', pseudoRandomBytes(10));
      await s.put('insert_log/70/_default/2/100/1', pseudoRandomBytes(10));
      // The first attempt unlinked the files and was killed before it removed their folders.
      fs.rmSync(path.join(tmp.dir, 'insert_log/7/_default/2/100/1'));
      fs.rmSync(path.join(tmp.dir, 'insert_log/7/_default/3/100/1'));
      assert.equal(await s.deletePrefix('insert_log/7/'), 0);
      assert.equal(fs.existsSync(path.join(tmp.dir, 'insert_log', '7')), false);
      assert.deepEqual(await s.list('insert_log/'), ['insert_log/70/_default/2/100/1']);
    } finally {
      await tmp.remove();
    }
  });
});
