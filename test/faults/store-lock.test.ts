/**
 * Fault tests for the data directory's owner lock (ARCHITECTURE.md §2.6, issue 10 item 2): a second
 * `migrans serve` on a directory another live server owns exits 2 with one line naming the owner,
 * and a lock left behind by a killed server does not keep the next one from starting.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, startServerProcess } from '../support/server-process.ts';
import { tempDir } from '../support/engine.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `migrans serve` on `dataDir` until it exits by itself (or 30 s); its exit code and output. */
function serveUntilExit(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/migrans.ts', 'serve', '--port', '0', '--data-dir', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the second server did not exit within 30 s; it printed:\n${stdout}${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a second server on a data directory in use exits 2 naming the owner, and the owner keeps every acknowledged row', { timeout: 90_000 }, async () => {
  const tmp = tempDir();
  const first = await startServerProcess(tmp.dir);
  try {
    assert.equal((await call(first.url, 'collections/create', { collectionName: 'shared', dimension: 2 })).code, 0);
    const second = await serveUntilExit(tmp.dir);
    assert.equal(second.code, 2, `exit code; output:\n${second.stdout}${second.stderr}`);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace:\n${second.stderr}`);
    assert.match(lines[0], new RegExp(`data directory .* is in use by pid ${first.child.pid}\\b`));
    assert.doesNotMatch(second.stdout, /listening/);
    const ins = await call(first.url, 'entities/insert', { collectionName: 'shared', data: [{ id: 1, vector: [1, 0] }] });
    assert.equal(ins.code, 0, JSON.stringify(ins));
  } finally {
    await first.stop();
  }
  assert.equal(fs.existsSync(path.join(tmp.dir, 'LOCK')), false, 'a clean shutdown releases the lock');
  const again = await startServerProcess(tmp.dir);
  try {
    const list = await call(again.url, 'collections/list', {});
    assert.deepEqual(list.data, ['shared']);
  } finally {
    await again.stop();
    tmp.cleanup();
  }
});

test('a lock left by a server killed with SIGKILL is taken over by the next server, which serves every acknowledged row', { timeout: 90_000 }, async () => {
  const tmp = tempDir();
  const first = await startServerProcess(tmp.dir);
  assert.equal((await call(first.url, 'collections/create', { collectionName: 'c', dimension: 2 })).code, 0);
  assert.equal((await call(first.url, 'entities/insert', { collectionName: 'c', data: [{ id: 7, vector: [0, 1] }] })).code, 0);
  await first.kill();
  assert.equal(fs.existsSync(path.join(tmp.dir, 'LOCK')), true, 'SIGKILL leaves the lock file behind');
  const next = await startServerProcess(tmp.dir);
  try {
    const got = await call(next.url, 'entities/get', { collectionName: 'c', id: [7], outputFields: ['id'] });
    assert.deepEqual(got.data, [{ id: 7 }]);
  } finally {
    await next.stop();
    tmp.cleanup();
  }
});
