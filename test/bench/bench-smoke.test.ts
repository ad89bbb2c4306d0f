/**
 * Smoke test of `npm run bench`: the whole harness at a tiny size (2,000 × 32, few queries, every
 * installable system) into a temporary directory, so it cannot rot. It checks that the JSON,
 * markdown and SVG are written and hold sane numbers — not performance. `migrans-aws` (opt-in,
 * `--aws`) is left out: starting the emulators and loading through Kinesis adds 60–70 s on 2 cores.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('bench harness runs end to end at a tiny size and writes JSON, markdown and SVG', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-bench-smoke-'));
  try {
    const out = path.join(dir, 'results');
    const { code, output } = await run([
      '--size',
      '2000',
      '--dim',
      '32',
      '--queries',
      '40',
      '--quick',
      '--efs',
      '16,64',
      '--out',
      out,
      '--cache',
      path.join(dir, 'cache'),
      '--work',
      path.join(dir, 'work'),
      '--no-bars',
    ]);
    assert.equal(code, 0, output);

    const files = fs.readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'));
    assert.ok(json, `no JSON in ${files.join(', ')}`);
    const base = json.slice(0, -'.json'.length);
    assert.match(base, /^\d{4}-\d{2}-\d{2}-2kx32-quick$/);
    assert.ok(files.includes(`${base}.md`) && files.includes(`${base}.svg`), files.join(', '));

    const r = JSON.parse(fs.readFileSync(path.join(out, json), 'utf8'));
    assert.equal(r.meta.n, 2000);
    assert.equal(r.meta.dim, 32);
    assert.ok(r.meta.wallSeconds > 0);
    const byId = new Map<string, any>(r.systems.map((s: any) => [s.id, s]));
    for (const id of ['usearch-f32', 'usearch-bf16', 'migrans-engine', 'migrans-http', 'exact']) {
      const s = byId.get(id);
      assert.ok(s, `system ${id} missing`);
      assert.equal(s.error, undefined, `${id}: ${s.error}`);
      assert.deepEqual(s.errors, [], `${id}: ${s.errors}`);
      assert.ok(s.sweep.length > 0, `${id} has no sweep points`);
      for (const p of s.sweep) {
        assert.ok(p.recall >= 0 && p.recall <= 1, `${id} recall ${p.recall}`);
        assert.ok(p.qps > 0 && Number.isFinite(p.qps), `${id} qps ${p.qps}`);
        assert.ok(p.latency.p99Ms >= p.latency.p50Ms, `${id} p99 < p50`);
      }
      // At 2,000 rows and ef 64 every HNSW system finds nearly all true neighbours.
      assert.ok(Math.max(...s.sweep.map((p: any) => p.recall)) >= 0.9, `${id} best recall too low: ${JSON.stringify(s.sweep)}`);
    }
    assert.equal(byId.get('exact').sweep[0].recall, 1);

    for (const id of ['migrans-engine', 'migrans-http']) {
      const s = byId.get(id);
      assert.ok(s.load.rowsPerSecond > 0 && s.load.indexedSeconds > 0, `${id} load ${JSON.stringify(s.load)}`);
      assert.equal(s.filtered.length, 4, `${id} filtered ${JSON.stringify(s.filtered)}`);
      for (const f of s.filtered) assert.ok(f.recall >= 0 && f.recall <= 1 && f.qps > 0, `${id} filtered ${JSON.stringify(f)}`);
      assert.ok(s.get.p50Ms > 0, `${id} get`);
      for (const rows of ['1', '100']) assert.ok(s.writeAck[rows].p50Ms > 0 && s.writeAck[rows].p99Ms >= s.writeAck[rows].p50Ms, `${id} write ack ${rows}`);
      for (const level of ['Session', 'Strong', 'Eventually']) assert.ok(s.freshness[level].p99Ms >= 0, `${id} freshness ${level}`);
      assert.ok(s.reopen.totalMs > 0, `${id} reopen`);
    }
    assert.ok(byId.get('migrans-http').concurrent.length > 0, 'no concurrent measurement for migrans-http');
    // The AWS code path on the emulators is opt-in (--aws): it would add over a minute to this test.
    assert.equal(byId.get('migrans-aws'), undefined, 'migrans-aws ran without --aws');
    const lance = byId.get('lancedb');
    assert.ok(lance, 'lancedb entry missing');
    if (!lance.skipped) {
      assert.equal(lance.error, undefined, lance.error);
      assert.ok(lance.sweep.length > 0 && lance.sweep.every((p: any) => p.recall >= 0 && p.recall <= 1 && p.qps > 0));
    }

    assert.ok(r.targets.length >= 10, 'targets missing');
    for (const t of r.targets) assert.ok(t.pass === true || t.pass === false || t.pass === null, JSON.stringify(t));

    const md = fs.readFileSync(path.join(out, `${base}.md`), 'utf8');
    assert.match(md, /\| system \| QPS @ recall ≥ 0\.95/);
    assert.match(md, /### Targets/);
    assert.match(md, /\| write ack 1 row p50 \/ p99 ms \|/);
    assert.match(md, new RegExp(`!\\[recall vs QPS\\]\\(${base}\\.svg\\)`));
    const svg = fs.readFileSync(path.join(out, `${base}.svg`), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    assert.ok((svg.match(/<circle /g) ?? []).length >= 8, 'chart has too few points');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
