/**
 * `npm run scale` (scripts/scale-summary.ts) end to end on a small set, against dev:aws on the
 * emulators: the report names every querynode with its share and a verdict, shows every segment
 * held by exactly its replicas, prints the search numbers, and the exit code follows the verdict;
 * and Ctrl-C during the load leaves nothing of dev:aws listening (no orphan proxies or querynodes).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts', 'scale-summary.ts');

/** A running scale check and everything it printed. */
interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const runs: Run[] = [];

/** Starts the script with `args`; stdout and stderr are collected together. */
function startScale(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { child, output: () => out, exited };
  runs.push(run);
  return run;
}

/** Resolves once the output matches `pattern` (rejects if the script exits first). */
async function waitFor(run: Run, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const m = pattern.exec(run.output());
    if (m) return m;
    if (run.child.exitCode !== null) throw new Error(`the scale check exited (${run.child.exitCode}) before printing ${pattern}; output:\n${run.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether something accepts TCP connections at `url`. */
function listening(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('npm run scale (scripts/scale-summary.ts, dev:aws on the emulators)', { timeout: 600_000 }, () => {
  after(() => {
    // A failed assertion must not leave a check running: SIGKILL closes the pipe dev:aws's guard holds, which takes its group down.
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  test('reports each querynode share, exact placement and the search numbers, and exits by its verdict', async () => {
    const run = startScale(['--rows', '3000', '--querynodes', '2', '--seconds', '2', '--clients', '2', '--queries', '50']);
    const code = await run.exited;
    const out = run.output();
    const nodes = out.split('\n').filter((l) => /^ {2}[0-9a-f]{8} http:\/\/127\.0\.0\.1:\d+ /.test(l));
    assert.equal(nodes.length, 2, `one line per querynode; output:\n${out}`);
    for (const l of nodes) assert.match(l, /\d+ \([\d.]+×\) .* (PASS|FAIL)/, 'each querynode line has its ratios and a verdict');
    assert.match(out, /held in all: (\d+) local, \1 resident of (\d+) segments × 1 replica\(s\) = \1 \(PASS/, 'every segment is held by exactly one querynode');
    assert.match(out, /searches in [\d.]+ s: [\d.]+ QPS, p50 [\d.]+ ms, p99 [\d.]+ ms, recall@10 [\d.]+ \(PASS at ≥ 0.9\), 0 errors/, 'Strong searches answer with good recall');
    const verdict = /^scale: (PASS|FAIL) \(/m.exec(out)?.[1];
    assert.equal(code, verdict === 'PASS' ? 0 : 1, `the exit code follows the verdict (${verdict}); output:\n${out}`);
  });

  test('Ctrl-C during the load stops dev:aws, its proxies and its querynodes', async () => {
    const run = startScale(['--rows', '50000', '--querynodes', '2']);
    const [, api, querynodes] = await waitFor(run, /dev:aws listens on (http:\/\/\S+); querynodes: (.*)/);
    await waitFor(run, /insert: [\d,]+ \/ 50,000 rows/);
    const urls = [api, ...querynodes.split(', ')];
    for (const u of urls) assert.equal(await listening(u), true, `${u} serves while the check runs`);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 130, 'interrupted: exit code 130');
    assert.match(run.output(), /scale: interrupted; stopping dev:aws/);
    for (const u of urls) assert.equal(await listening(u), false, `nothing listens at ${u} after Ctrl-C`);
  });
});
