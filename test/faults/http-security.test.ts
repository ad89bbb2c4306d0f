/**
 * Fault: a flood of unauthenticated uploads against `migrans serve --token`. The server must refuse
 * each one from its headers — 401, code 1800 — without reading the body, so twenty concurrent 60 MiB
 * uploads (fast and slow) leave its memory where it was, and authorized requests still work and find
 * every acknowledged row exactly once.
 * The server runs as a child process, the way a user runs it, so its peak RSS (VmHWM) is its own.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

const TOKEN = 's3cret';
const UPLOAD_BYTES = 60 * 1024 * 1024;
const MiB = 1024 * 1024;

/** Peak resident memory of a process so far, in bytes (Linux). */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/**
 * Streams a `UPLOAD_BYTES` insert without credentials in `chunkBytes` pieces (pausing `pauseMs`
 * between them) and stops when the answer arrives; resolves with the answer and the bytes sent.
 */
function unauthenticatedUpload(url: string, chunkBytes: number, pauseMs: number): Promise<{ response: string; sent: number; ms: number }> {
  const { hostname, port } = new URL(url);
  const chunk = Buffer.alloc(chunkBytes, 0x20);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let response = '';
    let sent = 0;
    let answered = false;
    const done = () => {
      if (answered) return;
      answered = true;
      socket.destroy();
      resolve({ response, sent, ms: Date.now() - started });
    };
    socket.on('data', (d) => {
      response += d.toString('latin1');
      if (/\r\n\r\n[\s\S]*\}/.test(response)) done();
    });
    socket.on('error', (err) => (response ? done() : reject(err)));
    socket.on('close', () => (response ? done() : reject(new Error(`connection closed after ${sent} bytes without an answer`))));
    socket.write(`POST /v2/vectordb/entities/insert HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${UPLOAD_BYTES}\r\n\r\n`);
    const pump = (): void => {
      while (!answered && sent < UPLOAD_BYTES) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
        if (pauseMs > 0) {
          setTimeout(pump, pauseMs);
          return;
        }
      }
    };
    pump();
  });
}

describe('unauthenticated upload flood (--token)', () => {
  let dir: string;
  let server: ServerProcess;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-flood-'));
    server = await startServerProcess(dir, { MIGRANS_TOKEN: TOKEN });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const authorized = (route: string, body: unknown) =>
    fetch(`${server.url}/v2/vectordb/${route}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) }).then(
      (r) => r.json() as Promise<{ code: number; data?: unknown }>,
    );

  it('answers 20 concurrent 60 MiB unauthenticated uploads with 401 from the headers, without holding their bodies in memory', async () => {
    assert.equal((await authorized('collections/create', { collectionName: 'kept', dimension: 4 })).code, 0);
    const rows = [1, 2, 3].map((id) => ({ id, vector: [id, 0, 0, 1] }));
    assert.equal((await authorized('entities/insert', { collectionName: 'kept', data: rows })).code, 0);
    const before = peakRss(server.child.pid!);
    const uploads = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? unauthenticatedUpload(server.url, MiB, 0) : unauthenticatedUpload(server.url, 256 * 1024, 20)));
    const results = await Promise.all(uploads);
    const growth = peakRss(server.child.pid!) - before;
    for (const r of results) {
      assert.match(r.response, /^HTTP\/1\.1 401 /, r.response);
      assert.match(r.response, /\{"code":1800,"message":"user hasn't authenticated"\}/);
      // Loopback socket buffers hold a few MiB; a server reading the body would take all 60 before answering.
      assert.ok(r.sent < 16 * MiB, `answered after ${r.sent} bytes of the body were sent`);
    }
    assert.ok(growth < 64 * MiB, `server peak RSS grew by ${Math.round(growth / MiB)} MiB`);
    assert.deepEqual(await authorized('collections/list', {}), { code: 0, data: ['kept'] });
    const queried = await authorized('entities/query', { collectionName: 'kept', filter: 'id >= 0', outputFields: ['id'], consistencyLevel: 'Strong' });
    assert.deepEqual((queried.data as { id: number }[]).map((r) => r.id).sort(), [1, 2, 3], 'every acknowledged row once');
  });
});
