/**
 * Contract of the LocalFiles port (lib/engine/ports/local-files.ts) over its folder adapter: the
 * engine's cache of downloaded objects and its index-build scratch files, and positional reads of
 * local chunk files, behave as the engine relies on.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';
import { StorageError } from '../../lib/engine/errors.ts';

function withFolder(fn: (files: FolderLocalFiles, dir: string) => void | Promise<void>) {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-local-files-'));
    try {
      await fn(new FolderLocalFiles(path.join(dir, 'cache')), dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

describe('LocalFiles (folder adapter)', () => {
  it(
    'keeps a cached object under its key, and removing a key prefix drops the whole folder',
    withFolder((files) => {
      assert.equal(files.exists('index_files/1/0/7/101/5.hnsw'), false);
      files.writeFile('index_files/1/0/7/101/5.hnsw', new Uint8Array([1, 2, 3]));
      files.writeFile('index_files/1/0/7/102/6.hnsw', new Uint8Array([4]));
      assert.deepEqual([...files.readFile('index_files/1/0/7/101/5.hnsw')], [1, 2, 3]);
      assert.equal(fs.existsSync(files.path('index_files/1/0/7/101/5.hnsw.tmp')), false, 'no temp file left behind');
      files.remove('index_files/1/0/7/');
      assert.equal(files.exists('index_files/1/0/7/102/6.hnsw'), false);
      files.remove('index_files/1/0/7/'); // missing: nothing happens
    }),
  );

  it(
    'gives scratch names whose folder exists and that differ per hint',
    withFolder((files) => {
      const a = files.scratchName('7-101.usearch');
      const b = files.scratchName('7-102.usearch');
      assert.notEqual(a, b);
      assert.ok(fs.statSync(path.dirname(files.path(a))).isDirectory());
      fs.writeFileSync(files.path(a), 'x');
      files.remove(a);
      assert.equal(files.exists(a), false);
    }),
  );

  it(
    'refuses a name that leaves its folder, naming it',
    withFolder((files) => {
      assert.throws(
        () => files.path('../escape'),
        (err: unknown) => err instanceof StorageError && /"\.\.\/escape"/.test(String(err)),
      );
    }),
  );

  it(
    'reads an open file at positions, synchronously and in the background, and closes idempotently',
    withFolder(async (files, dir) => {
      const file = path.join(dir, 'chunk');
      fs.writeFileSync(
        file,
        Uint8Array.from({ length: 100 }, (_, i) => i),
      );
      const handle = files.open(file);
      assert.equal(handle.size, 100);
      assert.equal(handle.path, file);
      const into = new Uint8Array(10);
      assert.equal(handle.readSync(into, 50), 10);
      assert.deepEqual([...into], [50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
      const tail = new Uint8Array(new ArrayBuffer(16), 4, 8); // a view: reads land at its own offset
      const n = await new Promise<number>((resolve, reject) => handle.read(tail, 95, (err, got) => (err ? reject(err) : resolve(got))));
      assert.equal(n, 5);
      assert.deepEqual([...tail.subarray(0, 5)], [95, 96, 97, 98, 99]);
      assert.equal(handle.readSync(into, 100), 0, 'end of file');
      handle.close();
      handle.close();
      assert.throws(() => files.open(path.join(dir, 'missing')));
    }),
  );
});
