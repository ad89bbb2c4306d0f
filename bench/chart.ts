/**
 * A hand-written SVG recall-vs-QPS chart (ann-benchmarks style: recall on x, queries per second on
 * a log y axis, up and to the right is better), one line per system.
 */

export interface Series {
  label: string;
  /** In sweep order (increasing ef); `group` splits a system's points into separate lines. */
  points: { recall: number; qps: number; group?: string }[];
  dashed?: boolean;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Renders the chart; `markers` draws vertical guides (e.g. recall 0.95 and 0.99). */
export function recallQpsSvg(title: string, series: Series[], options: { markers?: number[]; width?: number; height?: number } = {}): string {
  const W = options.width ?? 900;
  const legendRows = Math.ceil(series.length / 2);
  const H = (options.height ?? 480) + legendRows * 20;
  const pad = { left: 70, right: 30, top: 40, bottom: 60 + legendRows * 20 };
  const pw = W - pad.left - pad.right;
  const ph = H - pad.top - pad.bottom;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.qps) && p.qps > 0);
  const minRecall = all.length ? Math.min(...all.map((p) => p.recall)) : 0.8;
  const x0 = Math.max(0, Math.min(0.9, Math.floor(minRecall * 20) / 20));
  const x1 = 1.0;
  const qs = all.map((p) => p.qps);
  const y0 = Math.pow(10, Math.floor(Math.log10(Math.max(1e-3, qs.length ? Math.min(...qs) : 1))));
  const y1 = Math.pow(10, Math.ceil(Math.log10(Math.max(10, qs.length ? Math.max(...qs) : 10))));
  const sx = (r: number) => pad.left + ((r - x0) / (x1 - x0)) * pw;
  const sy = (q: number) => pad.top + ph - ((Math.log10(q) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * ph;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${pad.left + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // grid: x every 0.01 (labels every 0.05 or 0.01), y per decade with 2 and 5
  const xStep = x1 - x0 > 0.1 ? 0.05 : 0.01;
  for (let r = x0; r <= x1 + 1e-9; r += 0.01) {
    const major = Math.abs(r / xStep - Math.round(r / xStep)) < 1e-6;
    o.push(`<line x1="${sx(r).toFixed(1)}" y1="${pad.top}" x2="${sx(r).toFixed(1)}" y2="${pad.top + ph}" stroke="${major ? '#ccc' : '#eee'}"/>`);
    if (major) o.push(`<text x="${sx(r).toFixed(1)}" y="${pad.top + ph + 18}" text-anchor="middle">${r.toFixed(2)}</text>`);
  }
  for (let d = y0; d <= y1 * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > y1 * 1.0001) break;
      o.push(`<line x1="${pad.left}" y1="${sy(v).toFixed(1)}" x2="${pad.left + pw}" y2="${sy(v).toFixed(1)}" stroke="${m === 1 ? '#ccc' : '#f0f0f0'}"/>`);
      o.push(`<text x="${pad.left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end" fill="${m === 1 ? '#000' : '#888'}">${fmtQps(v)}</text>`);
    }
  }
  for (const m of options.markers ?? []) {
    if (m < x0 || m > x1) continue;
    o.push(`<line x1="${sx(m).toFixed(1)}" y1="${pad.top}" x2="${sx(m).toFixed(1)}" y2="${pad.top + ph}" stroke="#999" stroke-dasharray="4 3"/>`);
    o.push(`<text x="${(sx(m) + 3).toFixed(1)}" y="${pad.top + 12}" fill="#666">${m}</text>`);
  }
  o.push(`<rect x="${pad.left}" y="${pad.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  o.push(`<text x="${pad.left + pw / 2}" y="${pad.top + ph + 34}" text-anchor="middle">Recall@10</text>`);
  o.push(`<text transform="translate(18 ${pad.top + ph / 2}) rotate(-90)" text-anchor="middle">Queries per second (log scale)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => p.qps > 0 && Number.isFinite(p.qps));
    for (const group of new Set(pts.map((p) => p.group ?? ''))) {
      const line = pts.filter((p) => (p.group ?? '') === group);
      if (line.length < 2) continue;
      const d = line.map((p, j) => `${j ? 'L' : 'M'}${sx(Math.max(x0, p.recall)).toFixed(1)},${sy(p.qps).toFixed(1)}`).join(' ');
      o.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}${group ? ' stroke-opacity="0.6"' : ''}/>`);
    }
    for (const p of pts) o.push(`<circle cx="${sx(Math.max(x0, p.recall)).toFixed(1)}" cy="${sy(p.qps).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = pad.top + ph + 45 + Math.floor(i / 2) * 20;
    const lx = pad.left + (i % 2) * (pw / 2);
    o.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    o.push(`<circle cx="${lx + 12}" cy="${ly}" r="3.5" fill="${color}"/>`);
    o.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

function fmtQps(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}
