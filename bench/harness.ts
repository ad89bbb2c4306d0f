/**
 * The benchmark run: data → ground truth → every system loaded → interleaved measurements → report.
 *
 * Measurements are interleaved (each sweep point, filter level… runs on every system before the next
 * one starts, in rotating order) so that background load on a shared 2-core machine hits all
 * systems alike and the ratios between them hold.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { defaultGeneratorParams, groundTruth, loadDataset, rng, type Dataset, type GroundTruth } from './data.ts';
import { bestAtRecall, latencyStats, machineInfo, queryRecall, runConcurrent, runInterleaved, runSerial, sampleIds, type LatencyStats, type RunPoint } from './metrics.ts';
import { Progress } from './progress.ts';
import { writeReport } from './report.ts';
import { exactScan } from './systems/exact.ts';
import { lancedbAvailable, lancedbSystem } from './systems/lancedb.ts';
import { migransEngine } from './systems/migrans-engine.ts';
import { migransAws } from './systems/migrans-aws.ts';
import { migransHttp } from './systems/migrans-http.ts';
import type { BenchContext, BenchSystem, FilterSpec, FreshnessLevel, LoadResult, SweepParam } from './systems/types.ts';
import { usearchRaw } from './systems/usearch-raw.ts';
import { evaluateTargets, type TargetResult } from './targets.ts';

/** Every system the harness knows, in run order. */
export const ALL_SYSTEMS = ['usearch-f32', 'usearch-bf16', 'migrans-engine', 'migrans-engine-bf16', 'migrans-http', 'migrans-aws', 'lancedb', 'exact'] as const;

/**
 * Systems that run only when asked for by their exact id or with `--aws`: the AWS code path on the
 * emulators starts a JVM and several processes and is slow enough to double a run's wall time.
 */
export const OPT_IN_SYSTEMS: readonly string[] = ['migrans-aws'];

/** Options of one run (the CLI's flags). */
export interface BenchOptions {
  n: number;
  dim: number;
  queries: number;
  /** System ids (or prefixes) to run; empty = all but the opt-in ones. */
  systems: string[];
  /** Add the opt-in systems (`migrans-aws`) to the selection. */
  aws?: boolean;
  quick: boolean;
  outDir: string;
  cacheDir: string;
  /** Scratch space for databases (deleted at the end unless keepWork). */
  workDir: string;
  keepWork: boolean;
  clients: number;
  ingestConcurrency: number;
  batchRows: number;
  seed: number;
  efs: number[];
  /** Sweep repetitions; each point keeps its best run. */
  runs: number;
  bars?: boolean;
  quiet?: boolean;
  /** Rewrite the "latest results" block of bench/README.md. */
  updateReadme: boolean;
  /**
   * After loading, compact the Migrans systems (merge segments) and wait until they are indexed
   * again; the time counts in "insert → fully indexed" (searches then run on the merged layout).
   */
  compact?: boolean;
}

/** Filter selectivities (fraction of rows that pass). */
export const SELECTIVITIES = [0.5, 0.1, 0.01, 0.001];
export const K = 10;
export const M = 16;
export const EF_CONSTRUCTION = 128;
/** Beam of filtered searches: the engine's default search ef. */
export const FILTER_EF = 128;
export const DEFAULT_EFS = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
export const QUICK_EFS = [16, 32, 64, 128, 256];
/** Queries per interleaving chunk. */
export const CHUNK = 50;

export interface SweepRecord extends RunPoint {
  refine?: number;
}
export interface ConcurrentRecord {
  target: number;
  ef: number;
  refine?: number;
  clients: number;
  mode: 'async' | 'threads';
  recall: number;
  qps: number;
  latency?: LatencyStats;
}
export interface FilteredRecord {
  selectivity: number;
  expr: string;
  ef: number;
  recall: number;
  qps: number;
  latency: LatencyStats;
}

/** Everything measured for one system. */
export interface SystemResults {
  id: string;
  label: string;
  kind: BenchSystem['kind'];
  quantization?: string;
  /** Why the system could not be loaded (it is then left out of every measurement). */
  error?: string;
  /** Measurements that failed (the system stays in the run). */
  errors: string[];
  skipped?: string;
  load?: LoadResult;
  sweep: SweepRecord[];
  concurrent: ConcurrentRecord[];
  filtered: FilteredRecord[];
  get?: LatencyStats;
  /** Latency of one acknowledged insert request, by rows per request ('1', '100'). */
  writeAck?: Record<string, LatencyStats>;
  freshness?: Partial<Record<FreshnessLevel, LatencyStats & { meanPolls: number }>>;
  reopen?: Record<string, number>;
}

/** The JSON written to bench/results. */
export interface BenchResults {
  meta: {
    date: string;
    sizeLabel: string;
    n: number;
    dim: number;
    queries: number;
    k: number;
    M: number;
    efConstruction: number;
    metric: 'COSINE';
    efs: number[];
    runs: number;
    filterEf: number;
    clients: number;
    ingestConcurrency: number;
    batchRows: number;
    quick: boolean;
    generator: Dataset['params'];
    dataSeconds: number;
    groundTruthSeconds: number;
    machine: Record<string, unknown>;
    loadAverageEnd: number[];
    commit: string;
    wallSeconds: number;
    notes: string[];
  };
  systems: SystemResults[];
  targets: TargetResult[];
}

/** `10k`, `100k`, `1M`, or a plain number. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`--size must be like 10k, 100k, 1M or a number, got ${JSON.stringify(s)}`);
  const mult = m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1;
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isInteger(n) || n < 100) throw new Error(`--size must be at least 100 rows, got ${s}`);
  return n;
}

/** 100000 → `100k`, 1000000 → `1M`. */
export function sizeLabel(n: number): string {
  if (n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

function makeSystem(id: string): BenchSystem {
  switch (id) {
    case 'usearch-f32':
      return usearchRaw('f32');
    case 'usearch-bf16':
      return usearchRaw('bf16');
    case 'migrans-engine':
      return migransEngine('f32');
    case 'migrans-engine-bf16':
      return migransEngine('bf16');
    case 'migrans-http':
      return migransHttp('f32');
    case 'migrans-aws':
      return migransAws();
    case 'lancedb':
      return lancedbSystem();
    case 'exact':
      return exactScan();
    default:
      throw new Error(`unknown system ${id}`);
  }
}

/**
 * Which known systems a `--systems` list selects (exact ids or prefixes such as `usearch`); an
 * opt-in system only by its exact id or with `withOptIn` (`--aws`).
 */
export function selectSystems(filter: string[], withOptIn = false): string[] {
  const all: readonly string[] = ALL_SYSTEMS;
  const optIn = (id: string) => OPT_IN_SYSTEMS.includes(id);
  const matches = (f: string) => (all.includes(f) ? [f] : all.filter((id) => id.startsWith(`${f}-`) && !optIn(id)));
  const unknown = filter.filter((f) => matches(f).length === 0);
  if (unknown.length > 0) throw new Error(`unknown system(s) ${unknown.join(', ')}; known: ${all.join(', ')} (or a prefix: usearch, migrans)`);
  const base = filter.length === 0 ? all.filter((id) => !optIn(id)) : all.filter((id) => filter.some((f) => matches(f).includes(id)));
  return all.filter((id) => base.includes(id) || (withOptIn && optIn(id)));
}

/** HEAD, marked `+dirty` when tracked code files differ from it (the run then measured code no commit holds). */
function gitCommit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'bin', 'bench/systems').length > 0;
    return git('rev-parse', '--short', 'HEAD') + (dirty ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
}

/** Runs the whole benchmark and writes the report; returns the results and the files written. */
export async function runBench(o: BenchOptions): Promise<{ results: BenchResults; files: string[] }> {
  const wall0 = performance.now();
  const progress = new Progress({ bars: o.bars, quiet: o.quiet });
  const notes: string[] = [];
  const machine = machineInfo();
  progress.log(
    `migrans bench: ${sizeLabel(o.n)} × ${o.dim}, ${o.queries} queries, k ${K}, M ${M}, efConstruction ${EF_CONSTRUCTION}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`,
  );

  // ---------------------------------------------------------------- data and ground truth
  const gp = defaultGeneratorParams(o.n, o.dim, o.queries, o.seed);
  const gen = progress.phase('data: generate clustered vectors', o.n + o.queries);
  const ds = loadDataset(gp, o.cacheDir, (d) => gen.set(d));
  gen.done(ds.fromCache ? `read from ${o.cacheDir}` : `${o.n} + ${o.queries} vectors`);
  const gtPhase = progress.phase('data: exact ground truth', 1 + SELECTIVITIES.length);
  const gtAll = groundTruth(ds, K, o.cacheDir);
  gtPhase.tick();
  const gtFiltered = new Map<number, GroundTruth>();
  for (const s of SELECTIVITIES) {
    gtFiltered.set(s, groundTruth(ds, K, o.cacheDir, Math.round(s * gp.buckets)));
    gtPhase.tick();
  }
  const gtSeconds = gtAll.seconds + [...gtFiltered.values()].reduce((a, g) => a + g.seconds, 0);
  gtPhase.done(gtAll.fromCache ? 'cached' : `${gtSeconds.toFixed(1)} s`);

  // ---------------------------------------------------------------- systems
  const ids = selectSystems(o.systems, o.aws);
  const lanceMissing = ids.includes('lancedb') ? await lancedbAvailable() : null;
  const results = new Map<string, SystemResults>();
  const live: BenchSystem[] = [];
  fs.mkdirSync(o.workDir, { recursive: true });
  for (const id of ids) {
    const sys = makeSystem(id);
    const r: SystemResults = { id, label: sys.label, kind: sys.kind, quantization: sys.quantization, sweep: [], concurrent: [], filtered: [], errors: [] };
    results.set(id, r);
    if (id === 'lancedb' && lanceMissing) {
      r.skipped = lanceMissing;
      notes.push(`LanceDB skipped: ${lanceMissing}`);
      continue;
    }
    const ctx: BenchContext = {
      ds,
      k: K,
      M,
      efConstruction: EF_CONSTRUCTION,
      buildThreads: 2,
      batchRows: o.batchRows,
      ingestConcurrency: o.ingestConcurrency,
      workDir: fs.mkdtempSync(path.join(o.workDir, `${id}-`)),
      progress,
    };
    try {
      r.load = await sys.load(ctx);
      if (o.compact && sys.compact) {
        const phase = progress.phase(`${id}: compact + re-index`, 1);
        const c = await sys.compact();
        phase.done(`${c.seconds.toFixed(1)} s${c.segments === undefined ? '' : `, ${c.segments} segment(s)`}`);
        r.load.indexedSeconds += c.seconds;
        (r.load.notes ??= []).push(
          `compacted after loading (--compact): ${c.seconds.toFixed(1)} s, counted in insert → fully indexed${c.segments === undefined ? '' : `; ${c.segments} segment(s) after`}`,
        );
      }
      live.push(sys);
    } catch (err) {
      r.error = `load failed: ${(err as Error).stack ?? err}`;
      progress.log(`${id}: ${r.error}`);
      await sys.close().catch(() => {});
    }
  }
  if (ids.includes('migrans-aws')) {
    notes.push(
      'migrans-aws is the AWS code path on local emulators, not AWS: bin/dev-aws.ts (API proxy, Kinesis poller → ingest datanodes, indexer, 2 querynode processes) over DynamoDB Local, kinesis-mock and s3rver on this machine; ' +
        "its latencies are the emulators', and its CPU per query counts every one of those processes. It runs fewer queries and samples (see its load notes).",
    );
  } else {
    notes.push('Migrans via the AWS code path (on local emulators) not run: add `--aws` (see bench/README.md).');
  }

  const fail = (sys: BenchSystem, what: string, err: unknown) => {
    results.get(sys.id)!.errors.push(`${what}: ${(err as Error).message ?? err}`);
    progress.log(`${sys.id}: ${what} failed: ${(err as Error).stack ?? err}`);
  };

  const queryIds = Array.from({ length: o.queries }, (_, i) => i);
  const queriesFor = (sys: BenchSystem, cap = Infinity) => queryIds.slice(0, Math.min(queryIds.length, sys.maxQueries ?? Infinity, cap));
  const searcher = (sys: BenchSystem, p: SweepParam, filter?: FilterSpec) => (q: number) => sys.search(q, p, filter);

  const plans = new Map<string, SweepParam[]>(live.map((s) => [s.id, s.sweep?.(o.efs) ?? o.efs.map((ef) => ({ ef }))]));

  // ---------------------------------------------------------------- warm-up
  for (const sys of live) {
    try {
      const p = plans.get(sys.id)![0];
      await runSerial((q) => sys.search(q, p), queriesFor(sys, 100), p.ef, gtAll);
    } catch (err) {
      fail(sys, 'warm-up', err);
    }
  }

  // ---------------------------------------------------------------- recall / QPS sweep (serial)
  const rounds = Math.max(0, ...[...plans.values()].map((p) => p.length));
  const totalSweep = o.runs * live.reduce((a, s) => a + plans.get(s.id)!.length * queriesFor(s).length, 0);
  const sweepPhase = progress.phase(`search: recall/QPS sweep (serial, best of ${o.runs})`, totalSweep);
  for (let round = 0; round < rounds; round++) {
    const entries = rotate(live, round).flatMap((sys) => {
      const p = plans.get(sys.id)![round];
      return p ? [{ key: sys.id, search: searcher(sys, p), ef: p.ef, queries: queriesFor(sys), gt: gtAll, cpuPid: sys.serverPid?.(), p }] : [];
    });
    const { points, errors } = await runInterleaved(entries, { chunk: CHUNK, runs: o.runs, onQuery: () => sweepPhase.tick() });
    for (const e of entries) {
      const point = points.get(e.key);
      if (point) results.get(e.key)!.sweep.push({ ...point, refine: e.p.refine });
      else
        fail(
          live.find((s) => s.id === e.key)!,
          `sweep ef ${e.p.ef}${e.p.refine ? ` refine ${e.p.refine}` : ''}`,
          errors.get(e.key),
        );
    }
  }
  sweepPhase.done();

  // ---------------------------------------------------------------- concurrent clients at the operating points
  const concurrentSystems = live.filter((s) => s.concurrency);
  const conc = progress.phase(`search: ${o.clients} concurrent clients`, concurrentSystems.length * 2);
  for (const target of [0.95, 0.99]) {
    for (const sys of rotate(concurrentSystems, target === 0.95 ? 0 : 1)) {
      const r = results.get(sys.id)!;
      const op = bestAtRecall(r.sweep, target);
      conc.tick();
      if (!op) continue;
      const p: SweepParam = { ef: op.ef, refine: op.refine };
      try {
        if (sys.concurrency === 'threads' && sys.searchBatch) {
          const qs = queriesFor(sys);
          const threads = 2;
          const t0 = performance.now();
          const lists = sys.searchBatch(qs, p, threads);
          const seconds = (performance.now() - t0) / 1000;
          const recall = lists.reduce((a, ids, i) => a + queryRecall(ids, gtAll, qs[i]), 0) / qs.length;
          r.concurrent.push({ target, ef: p.ef, refine: p.refine, clients: threads, mode: 'threads', recall, qps: qs.length / seconds });
        } else {
          const point = await runConcurrent(searcher(sys, p), queriesFor(sys), p.ef, gtAll, o.clients);
          r.concurrent.push({ target, ef: p.ef, refine: p.refine, clients: o.clients, mode: 'async', recall: point.recall, qps: point.qps, latency: point.latency });
        }
      } catch (err) {
        fail(sys, `concurrent at recall ${target}`, err);
      }
    }
  }
  conc.done();

  // ---------------------------------------------------------------- filtered search
  const filteredSystems = live.filter((s) => s.filtered);
  const filterQueries = Math.min(o.queries, o.quick ? 100 : 500);
  const filt = progress.phase(
    `search: filtered (ef ${FILTER_EF})`,
    filteredSystems.reduce((a, sys) => a + SELECTIVITIES.length * queriesFor(sys, filterQueries).length, 0),
  );
  for (let i = 0; i < SELECTIVITIES.length; i++) {
    const s = SELECTIVITIES[i];
    const maxBucket = Math.round(s * gp.buckets);
    const filter: FilterSpec = { maxBucket, expr: `bucket < ${maxBucket}` };
    const entries = rotate(filteredSystems, i).map((sys) => {
      const p: SweepParam = sys.id === 'lancedb' ? { ef: FILTER_EF, refine: 2 } : { ef: FILTER_EF };
      return { key: sys.id, search: searcher(sys, p, filter), ef: p.ef, queries: queriesFor(sys, filterQueries), gt: gtFiltered.get(s)!, cpuPid: sys.serverPid?.() };
    });
    const { points, errors } = await runInterleaved(entries, { chunk: CHUNK, runs: 1, onQuery: () => filt.tick() });
    for (const e of entries) {
      const point = points.get(e.key);
      if (point) results.get(e.key)!.filtered.push({ selectivity: s, expr: filter.expr, ef: point.ef, recall: point.recall, qps: point.qps, latency: point.latency });
      else
        fail(
          live.find((x) => x.id === e.key)!,
          `filtered ${s}`,
          errors.get(e.key),
        );
    }
  }
  filt.done();

  // ---------------------------------------------------------------- get by primary key
  const getSystems = live.filter((s) => s.get);
  const getCount = o.quick ? 200 : 1000;
  const pks = sampleIds(o.n, Math.min(getCount, o.n), rng(o.seed + 7));
  const capped = (sys: BenchSystem, count: number) => Math.min(count, sys.maxSamples ?? Infinity);
  const getPhase = progress.phase(
    'get by primary key',
    getSystems.reduce((a, s) => a + capped(s, pks.length), 0),
  );
  for (const sys of getSystems) {
    try {
      for (let i = 0; i < 20; i++) await sys.get!(pks[i % pks.length]);
      const lat = new Float64Array(capped(sys, pks.length));
      for (let i = 0; i < lat.length; i++) {
        const t = performance.now();
        await sys.get!(pks[i]);
        lat[i] = performance.now() - t;
        getPhase.tick();
      }
      results.get(sys.id)!.get = latencyStats(lat);
    } catch (err) {
      fail(sys, 'get', err);
    }
  }
  getPhase.done();

  // ---------------------------------------------------------------- write ack: one insert request
  // New rows (pks from n up, vectors copied from the data) one request at a time, as a client
  // writing small batches sees it; they stay in the collection, which only later phases see.
  let nextPk = o.n;
  const ackSystems = live.filter((s) => s.writeAck);
  const ackPlan: [rows: number, samples: number][] = [
    [1, o.quick ? 20 : 100],
    [100, o.quick ? 10 : 50],
  ];
  const ackPhase = progress.phase(
    'write ack: one insert request',
    ackSystems.reduce((a, s) => a + ackPlan.reduce((b, [, c]) => b + capped(s, c), 0), 0),
  );
  for (const sys of ackSystems) {
    const r = results.get(sys.id)!;
    r.writeAck = {};
    for (const [rows, count] of ackPlan) {
      try {
        for (let i = 0; i < 3; i++) {
          await sys.writeAck!(nextPk, rows);
          nextPk += rows;
        }
        const lat = new Float64Array(capped(sys, count));
        for (let i = 0; i < lat.length; i++) {
          const t = performance.now();
          await sys.writeAck!(nextPk, rows);
          lat[i] = performance.now() - t;
          nextPk += rows;
          ackPhase.tick();
        }
        r.writeAck[String(rows)] = latencyStats(lat);
      } catch (err) {
        fail(sys, `write ack ${rows} row(s)`, err);
      }
    }
  }
  ackPhase.done();

  // ---------------------------------------------------------------- freshness: ack → visible
  const freshSystems = live.filter((s) => s.freshness);
  const levels: FreshnessLevel[] = ['Session', 'Strong', 'Eventually'];
  const freshSamples = o.quick ? 20 : 100;
  const freshPhase = progress.phase(
    'freshness: insert → visible',
    freshSystems.reduce((a, s) => a + levels.length * capped(s, freshSamples), 0),
  );
  for (const sys of freshSystems) {
    const r = results.get(sys.id)!;
    r.freshness = {};
    const samples = capped(sys, freshSamples);
    for (const level of levels) {
      try {
        const lat = new Float64Array(samples);
        let polls = 0;
        for (let i = 0; i < samples; i++) {
          const f = await sys.freshness!(nextPk++, (nextPk * 7919) % o.queries, level);
          lat[i] = f.visibleMs - f.ackMs;
          polls += f.polls;
          freshPhase.tick();
        }
        r.freshness[level] = { ...latencyStats(lat), meanPolls: polls / samples };
      } catch (err) {
        fail(sys, `freshness ${level}`, err);
      }
    }
  }
  freshPhase.done();

  // ---------------------------------------------------------------- reopen and first query
  const reopenSystems = live.filter((s) => s.reopen);
  const reopenPhase = progress.phase('reopen + first query', reopenSystems.length);
  for (const sys of reopenSystems) {
    try {
      results.get(sys.id)!.reopen = await sys.reopen!();
    } catch (err) {
      fail(sys, 'reopen', err);
    }
    reopenPhase.tick();
  }
  reopenPhase.done();

  for (const sys of live) await sys.close().catch((err) => fail(sys, 'close', err));
  if (!o.keepWork) fs.rmSync(o.workDir, { recursive: true, force: true });

  // ---------------------------------------------------------------- report
  const systems = [...results.values()];
  const wallSeconds = (performance.now() - wall0) / 1000;
  const bench: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      sizeLabel: sizeLabel(o.n),
      n: o.n,
      dim: o.dim,
      queries: o.queries,
      k: K,
      M,
      efConstruction: EF_CONSTRUCTION,
      metric: 'COSINE',
      efs: o.efs,
      runs: o.runs,
      filterEf: FILTER_EF,
      clients: o.clients,
      ingestConcurrency: o.ingestConcurrency,
      batchRows: o.batchRows,
      quick: o.quick,
      generator: gp,
      dataSeconds: ds.generateSeconds,
      groundTruthSeconds: gtSeconds,
      machine,
      loadAverageEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      commit: gitCommit(),
      wallSeconds,
      notes,
    },
    systems,
    targets: [],
  };
  bench.targets = evaluateTargets(bench);
  const files = writeReport(bench, o.outDir, { updateReadme: o.updateReadme });
  progress.log(`wrote ${files.join(', ')} (${wallSeconds.toFixed(0)} s wall)`);
  return { results: bench, files };
}

/** `xs` rotated left by `by`. */
function rotate<T>(xs: T[], by: number): T[] {
  if (xs.length === 0) return xs;
  const s = by % xs.length;
  return [...xs.slice(s), ...xs.slice(0, s)];
}
