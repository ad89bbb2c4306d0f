/**
 * Writes a run's results: `<date>-<size>x<dim>.json` (everything), `.md` (tables) and `.svg`
 * (recall-vs-QPS chart) in the results directory, and refreshes the "latest results" block of
 * bench/README.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recallQpsSvg } from './chart.ts';
import type { BenchResults, SystemResults } from './harness.ts';
import { bestAtRecall, type LatencyStats } from './metrics.ts';

const README = path.join(path.dirname(fileURLToPath(import.meta.url)), 'README.md');
const START = '<!-- latest-results:start -->';
const END = '<!-- latest-results:end -->';

const f0 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const f1 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));
const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const lat = (l: LatencyStats | undefined) => (l ? `${f2(l.p50Ms)} / ${f2(l.p99Ms)}` : '–');

/** The base name of a run's files. */
export function runBaseName(r: BenchResults): string {
  return `${r.meta.date.slice(0, 10)}-${r.meta.sizeLabel}x${r.meta.dim}${r.meta.quick ? '-quick' : ''}`;
}

function param(p: { ef: number; refine?: number }): string {
  return p.ef === 0 ? '–' : `ef ${p.ef}${p.refine ? ` rf ${p.refine}` : ''}`;
}

/** One system's best point at a recall target, as "QPS (ef) | p50 / p99". */
function opCells(s: SystemResults, target: number): [string, string, string] {
  const op = bestAtRecall(s.sweep, target);
  if (!op) return ['–', '–', '–'];
  return [`${f0(op.qps)} (${param(op)})`, lat(op.latency), f0(op.cpuUsPerQuery)];
}

function summaryTable(r: BenchResults): string[] {
  const rows: string[] = [];
  rows.push(
    '| system | QPS @ recall ≥ 0.95 | p50 / p99 ms | CPU µs / query | QPS @ recall ≥ 0.99 | p50 / p99 ms | best recall | concurrent QPS @ 0.95 | concurrent p50 / p99 ms |',
  );
  rows.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const s of r.systems) {
    if (s.skipped || !s.load) {
      rows.push(`| ${s.label} | ${s.skipped ? `skipped: ${s.skipped}` : `failed: ${(s.error ?? '').split('\n')[0].slice(0, 120)}`} |||||||| `);
      continue;
    }
    const [q95, l95, c95] = opCells(s, 0.95);
    const [q99, l99] = opCells(s, 0.99);
    const best = s.sweep.reduce((a, p) => Math.max(a, p.recall), 0);
    const c = s.concurrent.find((x) => x.target === 0.95);
    const cq = c ? `${f0(c.qps)} (${c.mode === 'threads' ? `${c.clients} threads` : `${c.clients} clients`})` : '–';
    rows.push(`| ${s.label} | ${q95} | ${l95} | ${c95} | ${q99} | ${l99} | ${f3(best)} | ${cq} | ${c?.latency ? lat(c.latency) : '–'} |`);
  }
  return rows;
}

function ingestTable(r: BenchResults): string[] {
  const rows = ['| system | rows/s acknowledged | insert s | insert → fully indexed s | index build s | peak RSS MiB |', '|---|--:|--:|--:|--:|--:|'];
  for (const s of r.systems) {
    if (!s.load || s.kind === 'exact') continue;
    rows.push(`| ${s.label} | ${f0(s.load.rowsPerSecond)} | ${f1(s.load.insertSeconds)} | ${f1(s.load.indexedSeconds)} | ${f1(s.load.buildSeconds)} | ${f0(s.load.peakRssMiB)} |`);
  }
  return rows;
}

function filteredTable(r: BenchResults): string[] {
  const sels = [0.5, 0.1, 0.01, 0.001];
  const rows = [`| system | ${sels.map((s) => `${s * 100} %: recall / QPS`).join(' | ')} |`, `|---|${sels.map(() => '--:').join('|')}|`];
  for (const s of r.systems) {
    if (s.filtered.length === 0) continue;
    const cells = sels.map((sel) => {
      const f = s.filtered.find((x) => x.selectivity === sel);
      return f ? `${f3(f.recall)} / ${f0(f.qps)}` : '–';
    });
    rows.push(`| ${s.label} | ${cells.join(' | ')} |`);
  }
  return rows;
}

function opsTable(r: BenchResults): string[] {
  const rows = [
    '| system | get by pk p50 / p99 ms | write ack 1 row p50 / p99 ms | write ack 100 rows p50 / p99 ms | ack → visible Session p50 / p99 ms | Strong p50 / p99 ms | Eventually p50 / p99 ms | reopen + first query ms |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const s of r.systems) {
    if (!s.get && !s.freshness && !s.reopen && !s.writeAck) continue;
    const reopen = s.reopen
      ? `${f0(s.reopen.totalMs)} (${Object.entries(s.reopen)
          .filter(([k]) => k !== 'totalMs')
          .map(([k, v]) => `${k.replace(/Ms$/, '')} ${f0(v)}`)
          .join(', ')})`
      : '–';
    rows.push(
      `| ${s.label} | ${lat(s.get)} | ${lat(s.writeAck?.['1'])} | ${lat(s.writeAck?.['100'])} | ${lat(s.freshness?.Session)} | ${lat(s.freshness?.Strong)} | ${lat(s.freshness?.Eventually)} | ${reopen} |`,
    );
  }
  return rows;
}

function targetsTable(r: BenchResults): string[] {
  const rows = ['| target | goal | measured | result |', '|---|---|---|---|'];
  for (const t of r.targets) {
    const verdict = t.pass === null ? 'n/a' : t.pass ? '**pass**' : '**FAIL**';
    rows.push(`| ${t.description} | ${t.goal} | ${t.value}${t.note ? ` _(${t.note})_` : ''} | ${verdict} |`);
  }
  return rows;
}

function sweepTable(r: BenchResults): string[] {
  const rows = ['| system | param | recall@10 | QPS | mean ms | p50 ms | p99 ms | CPU µs / query |', '|---|---|--:|--:|--:|--:|--:|--:|'];
  for (const s of r.systems)
    for (const p of s.sweep)
      rows.push(`| ${s.id} | ${param(p)} | ${f3(p.recall)} | ${f0(p.qps)} | ${f3(p.latency.meanMs)} | ${f3(p.latency.p50Ms)} | ${f3(p.latency.p99Ms)} | ${f0(p.cpuUsPerQuery)} |`);
  return rows;
}

/** Latest non-quick run per size with this dimension, from the results directory. */
function growthRuns(outDir: string, current: BenchResults): BenchResults[] {
  const bySize = new Map<number, BenchResults>();
  for (const f of fs.existsSync(outDir) ? fs.readdirSync(outDir) : []) {
    if (!f.endsWith('.json')) continue;
    try {
      const r = JSON.parse(fs.readFileSync(path.join(outDir, f), 'utf8')) as BenchResults;
      if (!r.meta || r.meta.dim !== current.meta.dim || r.meta.quick) continue;
      const prev = bySize.get(r.meta.n);
      if (!prev || prev.meta.date < r.meta.date) bySize.set(r.meta.n, r);
    } catch {
      // not ours
    }
  }
  if (!current.meta.quick) bySize.set(current.meta.n, current);
  return [...bySize.values()].sort((a, b) => a.meta.n - b.meta.n);
}

function growthTable(runs: BenchResults[]): string[] {
  if (runs.length === 0) return [];
  const get = (r: BenchResults, id: string) => r.systems.find((s) => s.id === id && s.load);
  const metrics: [string, (r: BenchResults) => string][] = [
    ['usearch f32: build s', (r) => f1(get(r, 'usearch-f32')?.load?.buildSeconds)],
    ['Migrans REST: insert → indexed s', (r) => f1(get(r, 'migrans-http')?.load?.indexedSeconds)],
    ['Migrans REST: rows/s acknowledged', (r) => f0(get(r, 'migrans-http')?.load?.rowsPerSecond)],
    ['Migrans REST: server peak RSS MiB', (r) => f0(get(r, 'migrans-http')?.load?.peakRssMiB)],
    [
      'usearch f32: QPS @ 0.95',
      (r) => {
        const s = get(r, 'usearch-f32');
        return s ? opCells(s, 0.95)[0] : '–';
      },
    ],
    [
      'Migrans engine: QPS @ 0.95',
      (r) => {
        const s = get(r, 'migrans-engine');
        return s ? opCells(s, 0.95)[0] : '–';
      },
    ],
    [
      'Migrans REST: QPS @ 0.95',
      (r) => {
        const s = get(r, 'migrans-http');
        return s ? opCells(s, 0.95)[0] : '–';
      },
    ],
    [
      'Migrans REST: p50 / p99 ms @ 0.95',
      (r) => {
        const s = get(r, 'migrans-http');
        return s ? opCells(s, 0.95)[1] : '–';
      },
    ],
    [
      'LanceDB: QPS @ 0.95',
      (r) => {
        const s = get(r, 'lancedb');
        return s ? opCells(s, 0.95)[0] : '–';
      },
    ],
    ['exact scan: QPS', (r) => f0(get(r, 'exact')?.sweep[0]?.qps)],
    [
      'Migrans REST: filtered 1 % recall / QPS',
      (r) => {
        const f = get(r, 'migrans-http')?.filtered.find((x) => x.selectivity === 0.01);
        return f ? `${f3(f.recall)} / ${f0(f.qps)}` : '–';
      },
    ],
    ['Migrans REST: get p99 ms', (r) => f2(get(r, 'migrans-http')?.get?.p99Ms)],
    ['Migrans REST: ack → visible Session p99 ms', (r) => f2(get(r, 'migrans-http')?.freshness?.Session?.p99Ms)],
    ['Migrans engine: reopen + first query ms', (r) => f0(get(r, 'migrans-engine')?.reopen?.totalMs)],
    ['run wall time s', (r) => f0(r.meta.wallSeconds)],
  ];
  const rows = [`| metric | ${runs.map((r) => `${r.meta.sizeLabel} × ${r.meta.dim} (${r.meta.date.slice(0, 10)})`).join(' | ')} |`, `|---|${runs.map(() => '--:').join('|')}|`];
  for (const [name, fn] of metrics) rows.push(`| ${name} | ${runs.map(fn).join(' | ')} |`);
  return rows;
}

/** The markdown report of one run (`chartFile` relative to the markdown's folder). */
export function renderMarkdown(r: BenchResults, chartFile: string, growth: BenchResults[]): string {
  const m = r.meta;
  const g = m.generator;
  const machine = m.machine as { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverage: number[] };
  const lines: string[] = [];
  lines.push(`## ${m.sizeLabel} × ${m.dim} — ${m.date.slice(0, 10)}${m.quick ? ' (quick)' : ''}`);
  lines.push('');
  lines.push(
    `${m.n.toLocaleString('en-US')} vectors × ${m.dim}, ${m.queries} queries, recall@${m.k}, cosine, HNSW M ${m.M} / efConstruction ${m.efConstruction} everywhere. ` +
      `Clustered data (${g.clusters} Gaussian clusters in ${g.latentDim}-d lifted to ${m.dim}-d, seed ${g.seed}). ` +
      `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${machine.loadAverage[0]} at start, ${m.loadAverageEnd[0]} at end. ` +
      `Commit ${m.commit}. Wall time ${f0(m.wallSeconds)} s.`,
  );
  lines.push('');
  lines.push(`![recall vs QPS](${chartFile})`);
  lines.push('');
  const section = (title: string, body: string[]) => lines.push(`### ${title}`, '', ...body, '');
  section('Search (single client, one query per request; concurrent at the recall ≥ 0.95 point)', summaryTable(r));
  section('Targets', targetsTable(r));
  section(`Ingest (${m.batchRows}-row batches, ${m.ingestConcurrency} in flight)`, ingestTable(r));
  section(`Filtered search (\`bucket < X\`, ef ${m.filterEf}; recall against the exact filtered top-${m.k})`, filteredTable(r));
  section('get, write ack, freshness, reopen (one request at a time)', opsTable(r));
  if (growth.length > 1) section(`Growth ${growth.map((x) => x.meta.sizeLabel).join(' → ')} (× ${m.dim})`, growthTable(growth));
  if (m.notes.length > 0 || r.systems.some((s) => s.error || s.errors.length > 0)) {
    lines.push('### Notes');
    lines.push('');
    for (const n of m.notes) lines.push(`- ${n}`);
    for (const s of r.systems) if (s.error) lines.push(`- ${s.id}: ${s.error.split('\n')[0]}`);
    for (const s of r.systems) for (const e of s.errors) lines.push(`- ${s.id}: ${e.split('\n')[0]}`);
    lines.push('');
  }
  lines.push('<details><summary>Full sweep</summary>');
  lines.push('');
  lines.push(...sweepTable(r));
  lines.push('');
  lines.push('</details>');
  lines.push('');
  return lines.join('\n');
}

/** Writes JSON, markdown and SVG; returns the paths. */
export function writeReport(r: BenchResults, outDir: string, options: { updateReadme: boolean }): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const base = runBaseName(r);
  const json = path.join(outDir, `${base}.json`);
  const md = path.join(outDir, `${base}.md`);
  const svg = path.join(outDir, `${base}.svg`);
  fs.writeFileSync(json, JSON.stringify(r, null, 1) + '\n');
  const series = r.systems
    .filter((s) => s.sweep.length > 0)
    .map((s) => ({
      label: s.label,
      points: s.sweep.map((p) => ({ recall: p.recall, qps: p.qps, group: p.refine ? `refine ${p.refine}` : undefined })),
      dashed: s.kind === 'ceiling',
    }));
  fs.writeFileSync(svg, recallQpsSvg(`Recall@${r.meta.k} vs QPS — ${r.meta.sizeLabel} × ${r.meta.dim}, 1 client, ${r.meta.date.slice(0, 10)}`, series, { markers: [0.95, 0.99] }));
  const growth = growthRuns(outDir, r);
  const markdown = renderMarkdown(r, `${base}.svg`, growth);
  fs.writeFileSync(md, `# Migrans bench\n\n${markdown}`);
  const files = [json, md, svg];
  if (options.updateReadme && fs.existsSync(README)) {
    const text = fs.readFileSync(README, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a) {
      const rel = path.relative(path.dirname(README), outDir).split(path.sep).join('/');
      const block = renderMarkdown(r, `${rel}/${base}.svg`, growth)
        .replace(/^## /, '### Latest: ')
        .replace(/\n### /g, '\n#### ');
      fs.writeFileSync(README, `${text.slice(0, a + START.length)}\n\n${block}\n${text.slice(b)}`);
      files.push(README);
    }
  }
  return files;
}
