/** Measurement helpers: recall, latency percentiles, serial and concurrent query loops, RSS. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GroundTruth } from './data.ts';

/** Latency summary in milliseconds. */
export interface LatencyStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Percentiles of samples (ms), nearest-rank. */
export function latencyStats(samples: ArrayLike<number>): LatencyStats {
  const a = Float64Array.from(samples).sort();
  const n = a.length;
  if (n === 0) return { count: 0, meanMs: NaN, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN };
  const at = (p: number) => a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i];
  return { count: n, meanMs: sum / n, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: a[n - 1] };
}

/**
 * Recall@k of one query: |returned ∩ exact| / |exact| (the exact list is shorter than k only when
 * fewer rows pass the filter; a query with no qualifying row has recall 1 when nothing came back).
 */
export function queryRecall(ids: ArrayLike<number>, gt: GroundTruth, q: number): number {
  const k = gt.k;
  const c = gt.counts[q];
  if (c === 0) return ids.length === 0 ? 1 : 0;
  let hit = 0;
  const base = q * k;
  const m = Math.min(ids.length, k);
  for (let i = 0; i < m; i++) {
    const id = ids[i];
    for (let j = 0; j < c; j++) {
      if (gt.ids[base + j] === id) {
        hit++;
        break;
      }
    }
  }
  return hit / c;
}

/** One point of a recall/throughput measurement. */
export interface RunPoint {
  ef: number;
  recall: number;
  qps: number;
  queries: number;
  latency: LatencyStats;
  /**
   * CPU time per query (µs): this process, plus the server process for client/server systems.
   * Unlike QPS it hardly moves when other processes load the machine.
   */
  cpuUsPerQuery?: number;
}

/** CPU time (user + system) of another process, in µs (Linux /proc, 10 ms ticks). */
export function procCpuUs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return 0;
  }
}

/** `pid` and every process below it (children, grandchildren…), from /proc's parent links. */
export function procTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      const list = children.get(ppid);
      if (list) list.push(Number(d));
      else children.set(ppid, [Number(d)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * CPU time of a server and all its descendants, in µs: a system of several processes (dev-aws:
 * proxy, querynodes, emulators) is charged for all of them; for one process it is procCpuUs.
 */
export function procTreeCpuUs(pid: number): number {
  // Walking /proc costs milliseconds; a server's processes are stable, so the tree is reused for 10 s.
  let t = trees.get(pid);
  if (!t || performance.now() - t.at > 10_000) trees.set(pid, (t = { at: performance.now(), pids: procTree(pid) }));
  return t.pids.reduce((a, p) => a + procCpuUs(p), 0);
}
const trees = new Map<number, { at: number; pids: number[] }>();

/** Peak RSS summed over a process tree (an upper bound: the peaks need not coincide), with the per-process list. */
export function procTreeMemory(pid: number): { peakRssMiB: number; rssMiB: number; detail: string } | null {
  let peak = 0;
  let rss = 0;
  const parts: string[] = [];
  for (const p of procTree(pid)) {
    const m = procMemory(p);
    if (!m || m.peakRssMiB < 1) continue;
    peak += m.peakRssMiB;
    rss += m.rssMiB;
    let name = '?';
    try {
      const args = fs
        .readFileSync(`/proc/${p}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((a) => path.basename(a));
      // A guard's command line names what it guards; call it a guard so the list reads right.
      name = args[1] === 'emulator-guard.mjs' ? 'guard' : (args.find((a) => /\.(ts|js|mjs|jar)$/.test(a)) ?? args[0] ?? '?');
    } catch {
      // exited
    }
    parts.push(`${name} ${Math.round(m.peakRssMiB)}`);
  }
  return peak > 0 ? { peakRssMiB: peak, rssMiB: rss, detail: `${parts.join(', ')} MiB` } : null;
}

/** A search function: top-k row ids for query `q` (sync or async). */
export type Searcher = (q: number, ef: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Runs `count` queries one after the other (one request in flight). */
export async function runSerial(search: Searcher, queryIds: number[], ef: number, gt: GroundTruth, onQuery?: () => void): Promise<RunPoint> {
  const lat = new Float64Array(queryIds.length);
  let recallSum = 0;
  const t0 = performance.now();
  for (let i = 0; i < queryIds.length; i++) {
    const q = queryIds[i];
    const s = performance.now();
    let r = search(q, ef);
    if (r instanceof Promise) r = await r;
    lat[i] = performance.now() - s;
    recallSum += queryRecall(r, gt, q);
    onQuery?.();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ef, recall: recallSum / queryIds.length, qps: queryIds.length / seconds, queries: queryIds.length, latency: latencyStats(lat) };
}

/** Runs the queries from `clients` concurrent loops (async searchers: HTTP, LanceDB). */
export async function runConcurrent(
  search: Searcher,
  queryIds: number[],
  ef: number,
  gt: GroundTruth,
  clients: number,
  onQuery?: () => void,
): Promise<RunPoint & { clients: number }> {
  const lat = new Float64Array(queryIds.length);
  let recallSum = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= queryIds.length) return;
      const q = queryIds[i];
      const s = performance.now();
      const r = await search(q, ef);
      lat[i] = performance.now() - s;
      recallSum += queryRecall(r, gt, q);
      onQuery?.();
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { ef, clients, recall: recallSum / queryIds.length, qps: queryIds.length / seconds, queries: queryIds.length, latency: latencyStats(lat) };
}

/** Best throughput among points reaching `minRecall` (ann-benchmarks' Pareto reading), or null. */
export function bestAtRecall<T extends RunPoint>(points: T[], minRecall: number): T | null {
  let best: T | null = null;
  for (const p of points) if (p.recall >= minRecall && (!best || p.qps > best.qps)) best = p;
  return best;
}

/** Peak and current resident set of a process (Linux /proc), in MiB. */
export function procMemory(pid: number = process.pid): { peakRssMiB: number; rssMiB: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    if (!hwm || !rss) return null;
    return { peakRssMiB: Number(hwm[1]) / 1024, rssMiB: Number(rss[1]) / 1024 };
  } catch {
    return null;
  }
}

/** What the machine is and how busy it was. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** A seeded sample of `count` distinct ints in [0, n) (or all of them when count ≥ n). */
export function sampleIds(n: number, count: number, r: () => number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const seen = new Set<number>();
  while (seen.size < count) seen.add(Math.floor(r() * n));
  return [...seen];
}

/** Sleeps. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One participant of an interleaved measurement. */
export interface InterleavedEntry {
  key: string;
  search: Searcher;
  ef: number;
  queries: number[];
  gt: GroundTruth;
  /** A server process whose CPU time (with its descendants') counts too. */
  cpuPid?: number;
}

/**
 * Serial runs of several systems, interleaved in chunks of `chunk` queries (chunk 0 of every
 * system, then chunk 1, … in rotating order), repeated `runs` times; each system keeps its best
 * run (ann-benchmarks keeps the best of several runs too). Background load on a shared machine
 * then falls on every system alike, so their ratios hold. A system whose search throws is dropped
 * from the rest of the measurement and reported in `errors`.
 */
export async function runInterleaved(
  entries: InterleavedEntry[],
  options: { chunk: number; runs: number; onQuery?: () => void },
): Promise<{ points: Map<string, RunPoint>; errors: Map<string, unknown> }> {
  const best = new Map<string, RunPoint>();
  const errors = new Map<string, unknown>();
  for (let run = 0; run < options.runs; run++) {
    const state = entries.map((e) => ({ e, lat: new Float64Array(e.queries.length), recall: 0, ms: 0, cpuUs: 0 }));
    const chunks = Math.max(0, ...entries.map((e) => Math.ceil(e.queries.length / options.chunk)));
    for (let c = 0; c < chunks; c++) {
      const order = state.map((_, i) => state[(i + c + run) % state.length]);
      for (const s of order) {
        if (errors.has(s.e.key)) continue;
        const from = c * options.chunk;
        const to = Math.min(s.e.queries.length, from + options.chunk);
        // The server's reading first, so that reading it is not charged to this process.
        const srv0 = s.e.cpuPid ? procTreeCpuUs(s.e.cpuPid) : 0;
        const cpu0 = process.cpuUsage();
        try {
          for (let i = from; i < to; i++) {
            const q = s.e.queries[i];
            const t = performance.now();
            let r = s.e.search(q, s.e.ef);
            if (r instanceof Promise) r = await r;
            const d = performance.now() - t;
            s.lat[i] = d;
            s.ms += d;
            s.recall += queryRecall(r, s.e.gt, q);
            options.onQuery?.();
          }
        } catch (err) {
          errors.set(s.e.key, err);
        }
        const cpu = process.cpuUsage(cpu0);
        s.cpuUs += cpu.user + cpu.system + (s.e.cpuPid ? procTreeCpuUs(s.e.cpuPid) - srv0 : 0);
      }
    }
    for (const s of state) {
      if (errors.has(s.e.key)) continue;
      const n = s.e.queries.length;
      const point: RunPoint = { ef: s.e.ef, recall: s.recall / n, qps: n / (s.ms / 1000), queries: n, latency: latencyStats(s.lat), cpuUsPerQuery: s.cpuUs / n };
      const prev = best.get(s.e.key);
      if (!prev || point.qps > prev.qps) best.set(s.e.key, point);
    }
  }
  return { points: best, errors };
}
