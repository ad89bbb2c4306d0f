/** The `migrans` CLI as a process: --version, config refusal (exit 2), a port in use (exit 1), serving, graceful SIGTERM, also through `npm start`. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const CLI = path.resolve('bin/migrans.ts');

function run(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('migrans serve', () => {
  it('refuses a non-loopback host without a token (exit 2)', async () => {
    const child = run(['serve', '--host', '0.0.0.0']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
  });

  it('--version prints the package version', async () => {
    const child = run(['--version']);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    assert.equal(await new Promise<number | null>((resolve) => child.on('exit', resolve)), 0);
    assert.equal(stdout.trim(), JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
  });

  it('a port in use is one line naming it and what to do, exit 1, no stack trace', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-port-'));
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const child = run(['serve', '--port', String(port), '--data-dir', dataDir]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      assert.equal(await new Promise<number | null>((resolve) => child.on('exit', resolve)), 1);
      assert.equal(
        stderr.trim(),
        `migrans: cannot listen on 127.0.0.1:${port}: the address is in use by another process; pick another with --port / --host (MIGRANS_PORT, MIGRANS_HOST)`,
      );
    } finally {
      taken.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves, prints a curl line, answers /healthz and /readyz, exposes Prometheus metrics, and shuts down on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-cli-'));
    const child = run(['serve', '--port', '0', '--data-dir', dataDir]);
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m && stdout.includes('curl')) resolve(m[1]!);
        });
        child.on('exit', (c) => reject(new Error(`exited early with ${c}: ${stdout}`)));
      });
      const r = await fetch(`${url}/v2/vectordb/collections/list`, { method: 'POST', body: '{}' });
      assert.deepEqual(await r.json(), { code: 0, data: [] });
      for (const route of ['/healthz', '/readyz']) {
        const health = await fetch(`${url}${route}`);
        assert.equal(health.status, 200, `${route} answers without a token`);
        assert.match(await health.text(), route === '/healthz' ? /"status":"ok"/ : /"status":"ready"/);
      }
      const metrics = await fetch(`${url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await metrics.text();
      assert.match(text, /migrans_requests_total\{route="\/v2\/vectordb\/collections\/list",outcome="ok"\} 1/, 'the request above is counted under its route');
      assert.match(text, /migrans_local_disk_bytes \d+/, 'the data directory size is reported');
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('stops when a supervisor sends SIGTERM to `npm start`: the server exits and stops listening', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-npm-'));
    // Its own process group, so that the cleanup reaches a server npm failed to stop.
    const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data-dir', dataDir], { cwd: path.resolve('.'), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        npm.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        npm.on('exit', (c) => reject(new Error(`exited early with ${c}: ${stdout}`)));
      });
      assert.equal((await fetch(`${url}/v2/vectordb/collections/list`, { method: 'POST', body: '{}' })).status, 200);
      npm.kill('SIGTERM');
      await new Promise((resolve) => npm.on('exit', resolve));
      // The server itself, not only npm, must be gone: its port refuses connections.
      let refused = false;
      for (let i = 0; i < 50 && !refused; i++) {
        refused = await fetch(`${url}/v2/vectordb/collections/list`, { method: 'POST', body: '{}' }).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(refused, `the server still answers at ${url} after npm got SIGTERM`);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
