/**
 * AutoIDs on the AWS code path with several API proxy processes, as Lambda runs many API containers:
 * `npm run dev:aws -- --proxies 3` (bin/dev-aws.ts) spreads requests round-robin over three proxy
 * processes, and concurrent autoID inserts through all of them must each get their own keys — an
 * insert of an existing key overwrites (invariant 1), so a key two processes both handed out would
 * silently lose an acknowledged row. Runs against the emulators (DynamoDB Local, kinesis-mock, s3rver).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GUARD = path.join(ROOT, 'localstack', 'emulator-guard.mjs');
const PROXIES = 3;
const INSERTS_PER_PROXY = 150;
const ROWS_PER_INSERT = 4;
const IN_FLIGHT = 24;

describe('autoIDs across API proxy processes (dev:aws --proxies 3, emulators)', { timeout: 300_000 }, () => {
  let guard: ChildProcess;
  let devAwsPid = 0;
  let url = '';
  let out = '';

  const call = async (route: string, body: unknown): Promise<any> => {
    try {
      const res = await fetch(`${url}/v2/vectordb/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-type-allow-int64': 'false' },
        body: JSON.stringify(body),
      });
      return await res.json();
    } catch (err) {
      throw new Error(`${route} failed: ${String((err as Error).cause ?? err)}; dev-aws output:\n${out.slice(-3000)}`, { cause: err });
    }
  };

  before(async () => {
    guard = spawn(
      process.execPath,
      [
        GUARD,
        process.execPath,
        '--import',
        'tsx',
        path.join(ROOT, 'bin', 'dev-aws.ts'),
        '--port',
        '0',
        '--proxies',
        String(PROXIES),
        '--querynodes',
        '1',
        '--compaction-interval-ms',
        '0',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, MIGRANS_TOKEN: '' },
        detached: true, // the guard leads a process group: one kill reaches everything dev-aws started
        stdio: ['pipe', 'pipe', 'pipe'], // the guard kills its group when our end of stdin closes
      },
    );
    guard.stdin!.on('error', () => {});
    guard.stdout!.on('data', (d) => (out += d));
    guard.stderr!.on('data', (d) => (out += d));
    [url, devAwsPid] = await new Promise<[string, number]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dev-aws was not ready within 240 s; output:\n${out.slice(-4000)}`)), 240_000);
      guard.stdout!.on('data', () => {
        const listening = /listens on (http:\/\/[\d.]+:\d+)/.exec(out);
        const ready = /dev:aws: ready .*pid (\d+)/.exec(out);
        if (listening && ready) {
          clearTimeout(timer);
          resolve([listening[1], Number(ready[1])]);
        }
      });
      guard.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`dev-aws exited (${signal ?? code}) before it was ready; output:\n${out.slice(-4000)}`));
      });
    });
  });

  after(async () => {
    if (!guard || guard.exitCode !== null || guard.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
    try {
      if (devAwsPid) process.kill(devAwsPid, 'SIGTERM');
      else process.kill(-guard.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-guard.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 30_000);
    await exited;
    clearTimeout(timer);
  });

  test('a collection created through one proxy process takes inserts through the others at once', async () => {
    // Every proxy has just read the catalog (each caches it for 500 ms)…
    for (let i = 0; i < PROXIES; i++) assert.equal((await call('collections/list', {})).code, 0);
    // …when one of them creates the collection.
    const created = await call('collections/create', { collectionName: 'fresh', dimension: 2 });
    assert.equal(created.code, 0, JSON.stringify(created));
    for (let i = 0; i < PROXIES; i++) {
      const reply = await call('entities/insert', { collectionName: 'fresh', data: [{ id: i, vector: [i, 1] }] });
      assert.equal(reply.code, 0, `insert ${i}: ${JSON.stringify(reply)}`);
    }
  });

  test('every acknowledged autoID row is stored: count(*) (Strong) equals the rows acknowledged, all keys distinct', async () => {
    assert.match(out, new RegExp(`${PROXIES} proxy processes`), 'dev-aws runs the requested proxy processes');
    const created = await call('collections/create', { collectionName: 'auto', dimension: 2, autoID: true, params: { consistencyLevel: 'Strong' } });
    assert.equal(created.code, 0, JSON.stringify(created));
    const total = PROXIES * INSERTS_PER_PROXY;
    const ids: string[] = [];
    let acknowledged = 0;
    let sent = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (sent < total) {
        const i = sent++;
        const data = Array.from({ length: ROWS_PER_INSERT }, (_, r) => ({ vector: [i, r] }));
        const reply = await call('entities/insert', { collectionName: 'auto', data });
        if (reply.code !== 0) {
          failures.push(JSON.stringify(reply));
          continue;
        }
        acknowledged += reply.data.insertCount;
        ids.push(...reply.data.insertIds);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    assert.deepEqual(failures, [], 'every insert is acknowledged');
    assert.equal(acknowledged, total * ROWS_PER_INSERT);
    const count = await call('entities/query', { collectionName: 'auto', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' });
    assert.equal(count.code, 0, JSON.stringify(count));
    assert.equal(Number(count.data[0]['count(*)']), acknowledged, 'count(*) equals the acknowledged rows');
    const distinct = new Set(ids).size;
    assert.equal(distinct, ids.length, `${ids.length - distinct} autoIDs were handed out twice by different proxy processes`);
  });
});
