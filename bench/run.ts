/**
 * `npm run bench -- --size 100k --dim 128`: Migrans measured side by side with raw usearch (the
 * ceiling), LanceDB (a peer) and an exact scan, on one seeded clustered data set. See bench/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { ALL_SYSTEMS, DEFAULT_EFS, OPT_IN_SYSTEMS, parseSize, QUICK_EFS, runBench, selectSystems, type BenchResults } from './harness.ts';
import { writeReport } from './report.ts';
import { evaluateTargets } from './targets.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

const program = new Command('bench')
  .description('Recall/QPS, latency, filtered search, ingest, freshness, get and reopen: Migrans vs raw usearch, LanceDB and exact scan')
  .option('--size <n>', 'rows: 10k, 100k, 1M or a number', '100k')
  .option('--dim <d>', 'vector dimension (128 or 768 for published runs)', int('--dim', 2), 128)
  .option('--queries <q>', 'query vectors (default 1000, 200 with --quick)', int('--queries', 1))
  .option('--systems <list>', `comma-separated systems or prefixes (${ALL_SYSTEMS.join(', ')}); ${OPT_IN_SYSTEMS.join(', ')} only by exact id or --aws`, '')
  .option('--aws', `also run ${OPT_IN_SYSTEMS.join(', ')}: the AWS code path (bin/dev-aws.ts) on local emulators, not AWS`, false)
  .option('--quick', 'fewer ef values, queries and samples (smoke runs)', false)
  .option('--efs <list>', `ef values of the sweep (default ${DEFAULT_EFS.join(',')})`)
  .option('--runs <n>', 'sweep repetitions, best run kept (default 2, 1 with --quick)', int('--runs', 1))
  .option('--clients <n>', 'concurrent clients for the concurrent measurement', int('--clients', 1), 8)
  .option('--ingest-concurrency <n>', 'insert requests in flight', int('--ingest-concurrency', 1), 2)
  .option('--batch <rows>', 'rows per insert request', int('--batch', 1), 1000)
  .option('--seed <s>', 'data set seed', int('--seed', 0), 42)
  .option('--out <dir>', 'results directory', path.join(ROOT, 'bench/results'))
  .option('--cache <dir>', 'data and ground-truth cache', path.join(ROOT, '.bench-cache'))
  .option('--work <dir>', 'scratch directory for the databases (deleted afterwards)')
  .option('--keep-work', 'keep the scratch databases', false)
  .option('--no-readme', 'do not refresh the latest-results block of bench/README.md')
  .option('--compact', 'compact the Migrans systems after loading (counted in insert → fully indexed)', false)
  .option('--no-bars', 'plain log lines instead of progress bars')
  .option('--quiet', 'no progress output', false)
  .option('--report-only <json>', 'no run: rewrite the markdown, SVG and README block of an existing results JSON')
  .parse();

const opts = program.opts();
if (opts.reportOnly) {
  const file = path.resolve(opts.reportOnly);
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
  results.targets = evaluateTargets(results);
  const files = writeReport(results, path.dirname(file), { updateReadme: opts.readme !== false && !results.meta.quick });
  process.stderr.write(`wrote ${files.join(', ')}\n`);
  process.exit(0);
}
try {
  const n = parseSize(opts.size);
  const systems = String(opts.systems)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  selectSystems(systems, opts.aws); // fail fast on a typo
  const efs = opts.efs
    ? String(opts.efs)
        .split(',')
        .map((x) => int('--efs', 1)(x.trim()))
    : opts.quick
      ? QUICK_EFS
      : DEFAULT_EFS;
  const out = path.resolve(opts.out);
  const t0 = performance.now();
  const { results } = await runBench({
    n,
    dim: opts.dim,
    queries: opts.queries ?? (opts.quick ? 200 : 1000),
    systems,
    aws: opts.aws,
    quick: opts.quick,
    outDir: out,
    cacheDir: path.resolve(opts.cache),
    workDir: path.resolve(opts.work ?? path.join(os.tmpdir(), `migrans-bench-${process.pid}`)),
    keepWork: opts.keepWork,
    clients: opts.clients,
    ingestConcurrency: opts.ingestConcurrency,
    batchRows: opts.batch,
    seed: opts.seed,
    efs,
    runs: opts.runs ?? (opts.quick ? 1 : 2),
    compact: opts.compact,
    bars: opts.bars === false ? false : undefined,
    quiet: opts.quiet,
    // Only the default results directory feeds the README.
    updateReadme: opts.readme !== false && out === path.join(ROOT, 'bench/results') && !opts.quick,
  });
  if (!opts.quiet) {
    process.stderr.write('\nTargets (goals, not gates):\n');
    for (const t of results.targets) {
      const verdict = t.pass === null ? ' n/a' : t.pass ? 'PASS' : 'FAIL';
      process.stderr.write(`  [${verdict}] ${t.description}: ${t.value} (goal ${t.goal})${t.note ? ` — ${t.note}` : ''}\n`);
    }
    process.stderr.write(`\nTotal ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  // LanceDB's and the engine's native threads can keep the loop alive; the run is over.
  process.exit(0);
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
