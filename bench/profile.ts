/**
 * A profiling driver: loads one Migrans system (`migrans-http` or `migrans-engine`) with the bench's
 * data and runs selected phases alone, printing latency percentiles per phase. The full bench
 * interleaves every system, which makes a CPU profile of one phase hard to read; this runs just the
 * phase under investigation.
 *
 *   node --import tsx bench/profile.ts --size 100k --system migrans-http --phases get,search,filtered
 *
 * Profile the server with `--server-prof <dir>` (it runs `migrans serve` under `node --cpu-prof`
 * and writes the profile when the server shuts down), the driver itself with `node --cpu-prof`.
 * Summarize with bench/cpuprofile-summary.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { defaultGeneratorParams, groundTruth, loadDataset, rng } from './data.ts';
import { EF_CONSTRUCTION, K, M, parseSize } from './harness.ts';
import { latencyStats, queryRecall, sampleIds } from './metrics.ts';
import { Progress } from './progress.ts';
import { migransEngine } from './systems/migrans-engine.ts';
import { migransHttp } from './systems/migrans-http.ts';
import type { BenchContext, BenchSystem } from './systems/types.ts';

const program = new Command('profile')
  .option('--size <n>', 'rows', '100k')
  .option('--dim <d>', 'dimension', '128')
  .option('--system <id>', 'migrans-http or migrans-engine', 'migrans-http')
  .option('--phases <list>', 'after the load (or --reuse): any of get,search,filtered,sweep,compact,reopen', 'get,search,filtered')
  .option('--count <n>', 'operations per phase', '1000')
  .option('--queries <n>', 'query vectors in the data set (the 1M cache holds 500)', '1000')
  .option('--ef <n>', 'search ef', '24')
  .option('--server-prof <dir>', 'run the REST server under node --cpu-prof, writing into this directory')
  .option('--cache <dir>', 'data cache', path.resolve('.bench-cache'))
  .option('--work <dir>', 'scratch directory (kept)')
  .option('--reuse', 'open what an earlier run left in --work instead of loading')
  .parse();
const o = program.opts();

const n = parseSize(o.size);
const dim = Number(o.dim);
const count = Number(o.count);
const ef = Number(o.ef);
if (o.serverProf) {
  fs.mkdirSync(o.serverProf, { recursive: true });
  process.env.MIGRANS_BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${path.resolve(o.serverProf)}`;
}
const progress = new Progress({ bars: false });
const queries = Number(o.queries);
const ds = loadDataset(defaultGeneratorParams(n, dim, queries, 42), path.resolve(o.cache));
const workDir = o.work ? path.resolve(o.work) : fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-profile-'));
fs.mkdirSync(workDir, { recursive: true });
const ctx: BenchContext = { ds, k: K, M, efConstruction: EF_CONSTRUCTION, buildThreads: 2, batchRows: 1000, ingestConcurrency: 2, workDir, progress };
const sys: BenchSystem = o.system === 'migrans-engine' ? migransEngine('f32') : migransHttp('f32');

/** CLOCK_MONOTONIC in µs: the clock of V8 CPU profiles (see cpuprofile-summary.ts --window). */
const monoUs = () => Number(process.hrtime.bigint() / 1000n);
let phaseStartUs = monoUs();
const report = (what: string, lat: Float64Array, t0: number) => {
  const s = latencyStats(lat);
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`${what}: window ${phaseStartUs}:${monoUs()}\n`);
  phaseStartUs = monoUs();
  process.stderr.write(
    `${what}: ${lat.length} ops in ${secs.toFixed(2)} s; mean ${s.meanMs.toFixed(3)}, p50 ${s.p50Ms.toFixed(3)} / p90 ${s.p90Ms.toFixed(3)} / p99 ${s.p99Ms.toFixed(3)} / max ${s.maxMs.toFixed(3)} ms\n`,
  );
};

if (o.reuse) {
  await sys.attach!(ctx);
  process.stderr.write(`attach: window ${phaseStartUs}:${monoUs()}\n`);
} else {
  const load = await sys.load(ctx);
  process.stderr.write(`load: ${JSON.stringify(load)}\nload: window ${phaseStartUs}:${monoUs()}\n`);
}
for (const phase of String(o.phases).split(',').filter(Boolean)) {
  phaseStartUs = monoUs();
  const lat = new Float64Array(count);
  const t0 = performance.now();
  if (phase === 'get') {
    const pks = sampleIds(n, Math.min(count, n), rng(49));
    for (let i = 0; i < 20; i++) await sys.get!(pks[i]);
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await sys.get!(pks[i % pks.length]);
      lat[i] = performance.now() - t;
    }
  } else if (phase === 'search' || phase === 'filtered') {
    for (const maxBucket of phase === 'search' ? [0] : [500, 100, 10, 1]) {
      const filter = maxBucket ? { maxBucket, expr: `bucket < ${maxBucket}` } : undefined;
      const t1 = performance.now();
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await sys.search(i % queries, { ef: filter ? 128 : ef }, filter);
        lat[i] = performance.now() - t;
      }
      report(filter ? `filtered ${filter.expr}` : `search ef ${ef}`, lat, t1);
    }
    continue;
  } else if (phase === 'sweep') {
    const gt = groundTruth(ds, K, path.resolve(o.cache));
    for (const sweepEf of [16, 24, 32, 48, 64]) {
      const t1 = performance.now();
      let recall = 0;
      const n = Math.min(count, queries);
      for (let q = 0; q < n; q++) recall += queryRecall(await sys.search(q, { ef: sweepEf }), gt, q);
      const secs = (performance.now() - t1) / 1000;
      process.stderr.write(`sweep ef ${sweepEf}: recall ${(recall / n).toFixed(3)}, ${(n / secs).toFixed(0)} QPS\n`);
    }
    continue;
  } else if (phase === 'compact') {
    process.stderr.write(`compact: ${JSON.stringify(await sys.compact!())}\ncompact: window ${phaseStartUs}:${monoUs()}\n`);
    continue;
  } else if (phase === 'reopen') {
    process.stderr.write(`reopen: ${JSON.stringify(await sys.reopen!())}\nreopen: window ${phaseStartUs}:${monoUs()}\n`);
    continue;
  } else throw new Error(`unknown phase ${phase}`);
  report(phase, lat, t0);
}
await sys.close();
if (!o.work) fs.rmSync(workDir, { recursive: true, force: true });
process.exit(0);
