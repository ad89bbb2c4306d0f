#!/usr/bin/env node
/**
 * Adds lockfile entries for other-platform optional packages the registry mirror does not serve.
 *
 * Why: this workplace's npm mirror lacks some platform builds (e.g. @lancedb/lancedb-darwin-arm64
 * at the version @lancedb/lancedb pins). `npm install` skips them, but `npm ci` then rejects the
 * lockfile as out of sync. An entry with the package's os/cpu lets `npm ci` skip it by platform,
 * as it would with a complete registry. Run after any `npm install` that rewrites package-lock.json.
 */
import fs from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(LOCK, 'utf8'));
const pkgs = lock.packages;

/** os / cpu / libc from a platform package name such as `@scope/name-linux-arm64-musl`. */
function platformOf(name) {
  const os = ['darwin', 'linux', 'win32', 'freebsd'].find((o) => name.includes(`-${o}`));
  const cpu = ['arm64', 'x64', 'arm', 'ia32'].find((c) => new RegExp(`-${c}(-|$)`).test(name));
  if (!os || !cpu) return undefined;
  const libc = name.endsWith('-musl') ? ['musl'] : name.includes('-gnu') ? ['glibc'] : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${dep}`;
    if (pkgs[at] || pkgs[`${path}/node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue; // only platform builds are safe to skip
    pkgs[at] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
fs.writeFileSync(
  LOCK,
  JSON.stringify({ ...lock, packages: Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1))) }, null, 2) + '\n',
);
console.log(`lock-missing-platforms: added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
