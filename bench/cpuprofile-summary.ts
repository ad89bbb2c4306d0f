/**
 * Summarizes V8 `.cpuprofile` files (from `node --cpu-prof`): self and inclusive time per function,
 * so a profile of a bench phase can be read in a terminal and pasted into an issue.
 *
 *   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 40] [--filter text]
 *
 * `--filter` keeps only samples whose stack contains a frame matching the text (e.g. a route
 * handler), which isolates one request kind in a server profile. `--window from:to` keeps samples
 * taken in that span of CLOCK_MONOTONIC microseconds (V8's profile clock, the same as
 * `process.hrtime`), which bench/profile.ts prints per phase, so one phase of a long-running
 * server can be read alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Time per function label, in microseconds. */
export interface ProfileSummary {
  totalUs: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
}

/** "name file:line" of a frame; native and VM frames keep their V8 names. */
function label(node: ProfileNode): string {
  const f = node.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\//, '');
  const short = file.includes('node_modules') ? file.slice(file.lastIndexOf('node_modules')) : path.relative(process.cwd(), file);
  return `${name} ${short}:${f.lineNumber + 1}`;
}

/** Aggregates a profile's samples: self time per function and inclusive time (each function once per stack). */
export function summarize(profile: Profile, filter?: string, window?: [number, number]): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (window && (at < window[0] || at > window[1])) continue;
    const leaf = profile.samples[i];
    const stack: string[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(label(byId.get(id)!));
    if (filter && !stack.some((s) => s.includes(filter))) continue;
    totalUs += dt;
    self.set(stack[0], (self.get(stack[0]) ?? 0) + dt);
    for (const s of new Set(stack)) inclusive.set(s, (inclusive.get(s) ?? 0) + dt);
  }
  return { totalUs, self, inclusive };
}

function table(title: string, m: Map<string, number>, totalUs: number, top: number): string {
  const rows = [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [`${title} (total ${(totalUs / 1000).toFixed(0)} ms)`];
  for (const [name, us] of rows) lines.push(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${name}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const top = Number(opt('--top') ?? 40);
  const filter = opt('--filter');
  const w = opt('--window')?.split(':').map(Number);
  for (const file of args) {
    const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile, filter, w ? [w[0], w[1]] : undefined);
    process.stdout.write(`== ${file}${filter ? ` (stacks containing "${filter}")` : ''}\n`);
    process.stdout.write(table('self time', s.self, s.totalUs, top) + '\n\n');
    process.stdout.write(table('inclusive time', s.inclusive, s.totalUs, top) + '\n\n');
  }
}
