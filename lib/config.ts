/**
 * Configuration of `migrans serve`, read in one place: command-line flags win over environment
 * variables (MIGRANS_PORT, MIGRANS_HOST, MIGRANS_DATA_DIR, MIGRANS_TOKEN, MIGRANS_CORS_ORIGINS), which win over
 * defaults.
 * Engine tuning knobs come from MIGRANS_* variables listed in ENGINE_ENV; the growing-data budget
 * defaults from the machine's memory (defaultGrowingBudgetBytes, applied by lib/embedded.ts).
 * Logging: MIGRANS_LOG_LEVEL (debug|info|warn|error, default info) and MIGRANS_LOG_FORMAT (json|pretty,
 * default pretty on a terminal, else json), read by resolveLogConfig.
 * Every problem is a ConfigError whose message says what was wrong, the value received and what to do.
 */
import * as path from 'node:path';
import type { EngineConfig } from './engine/engine-config.ts';
import { LOG_LEVELS, type LogLevel } from './engine/ports/logger.ts';

/** Defaults: Milvus's port, loopback only, `./data`. */
export const DEFAULTS = { port: 19530, host: '127.0.0.1', dataDir: './data' } as const;

/** Validated server configuration. */
export interface ServeConfig {
  host: string;
  port: number;
  /** Absolute path. */
  dataDir: string;
  token?: string;
  /** Origins of web pages allowed to call the API (normalized `scheme://host[:port]`); absent: none. */
  corsOrigins?: string[];
}

/** Flags as commander hands them over (all optional strings). */
export interface ServeFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  token?: string;
  corsOrigins?: string;
}

/** A configuration mistake; the CLI prints the message and exits with code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** True for loopback hosts: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function pick(flag: string | undefined, env: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  return env === undefined || env === '' ? undefined : env;
}

/** Resolves and validates the serve configuration. */
export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const portText = pick(flags.port, env.MIGRANS_PORT) ?? String(DEFAULTS.port);
  if (!/^\d+$/.test(portText.trim()) || Number(portText) > 65535) {
    throw new ConfigError(`invalid port ${JSON.stringify(portText)}: use an integer from 0 to 65535 (--port or MIGRANS_PORT)`);
  }
  const port = Number(portText);

  const host = (pick(flags.host, env.MIGRANS_HOST) ?? DEFAULTS.host).trim();
  if (host === '' || /\s|\//.test(host)) {
    throw new ConfigError(`invalid host ${JSON.stringify(host)}: use an IP address or host name such as 127.0.0.1 (--host or MIGRANS_HOST)`);
  }

  const dataDirText = pick(flags.dataDir, env.MIGRANS_DATA_DIR) ?? DEFAULTS.dataDir;
  if (dataDirText.trim() === '') throw new ConfigError('empty data directory: pass --data-dir <path> or set MIGRANS_DATA_DIR');
  const dataDir = path.resolve(dataDirText);

  const token = pick(flags.token, env.MIGRANS_TOKEN);
  if (token !== undefined && token.trim() === '') {
    throw new ConfigError('empty token: pass a non-empty --token or MIGRANS_TOKEN, or leave both unset on a loopback host');
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `refusing to listen on ${host} without a token: anyone who can reach it could read and change data. ` + 'Set --token <secret> (or MIGRANS_TOKEN), or bind to 127.0.0.1',
    );
  }
  const corsOrigins = parseCorsOrigins(pick(flags.corsOrigins, env.MIGRANS_CORS_ORIGINS));
  return { host, port, dataDir, ...(token === undefined ? {} : { token }), ...(corsOrigins === undefined ? {} : { corsOrigins }) };
}

/**
 * The serialized origin (`scheme://host[:port]`, lower case, default port dropped) of an http(s)
 * origin such as an `Origin` header; undefined for anything else (`null`, a path, another scheme).
 */
export function originOf(text: string): string | undefined {
  const t = text.trim();
  // An origin is scheme://host[:port] and nothing else: `new URL` would silently drop a path or query.
  if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(t)) return undefined;
  try {
    return new URL(t).origin;
  } catch {
    return undefined;
  }
}

/** A comma-separated list of http(s) origins, normalized as browsers send them. */
function parseCorsOrigins(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const hint = '(--cors-origins or MIGRANS_CORS_ORIGINS): list the origins of your browser clients, comma-separated, e.g. http://localhost:3000,https://app.example.com';
  const origins = new Set<string>();
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    if (item === '*') throw new ConfigError(`invalid CORS origin "*" ${hint}; "*" would let every web page send requests`);
    const origin = originOf(item);
    if (origin === undefined) throw new ConfigError(`invalid CORS origin ${JSON.stringify(item)} ${hint}`);
    origins.add(origin);
  }
  return origins.size === 0 ? undefined : [...origins];
}

/** Environment variables that override engine knobs (positive numbers; see lib/engine/engine-config.ts). */
export const ENGINE_ENV: Readonly<Record<string, keyof EngineConfig>> = {
  MIGRANS_SEAL_ROWS: 'sealRows',
  MIGRANS_SEAL_BYTES: 'sealBytes',
  MIGRANS_MAX_SEGMENT_BYTES: 'maxSegmentBytes',
  MIGRANS_IDLE_SEAL_MS: 'idleSealMs',
  MIGRANS_CONSISTENCY_TIMEOUT_MS: 'consistencyTimeoutMs',
  MIGRANS_GRACEFUL_TIME_MS: 'gracefulTimeMs',
  MIGRANS_COMPACTION_INTERVAL_MS: 'compactionIntervalMs',
  MIGRANS_DEFAULT_SEARCH_EF: 'defaultSearchEf',
  MIGRANS_GROWING_BUDGET_BYTES: 'growingBudgetBytes',
};

/** Smallest growing-data budget accepted: below it nearly every insert would seal a segment. */
export const MIN_GROWING_BUDGET_BYTES = 1024 * 1024;

/**
 * The growing-data budget of a machine with `totalMemoryBytes` of memory (os.totalmem()) when
 * MIGRANS_GROWING_BUDGET_BYTES is not set: a quarter of it, at most 4 GiB, at least the minimum.
 */
export function defaultGrowingBudgetBytes(totalMemoryBytes: number): number {
  return Math.max(MIN_GROWING_BUDGET_BYTES, Math.min(Math.floor(totalMemoryBytes / 4), 4 * 1024 * 1024 * 1024));
}

/** Engine knobs set in the environment; throws ConfigError on a value that is not a non-negative number. */
export function resolveEngineConfig(env: NodeJS.ProcessEnv = process.env): Partial<EngineConfig> {
  const out: Partial<Record<keyof EngineConfig, number>> = {};
  for (const [name, key] of Object.entries(ENGINE_ENV)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`invalid ${name} ${JSON.stringify(text)}: use a non-negative number`);
    out[key] = value;
  }
  const budget = out.growingBudgetBytes;
  if (budget !== undefined && (!Number.isInteger(budget) || budget < MIN_GROWING_BUDGET_BYTES)) {
    throw new ConfigError(
      `invalid MIGRANS_GROWING_BUDGET_BYTES ${JSON.stringify(env.MIGRANS_GROWING_BUDGET_BYTES)}: use a whole number of bytes of at least ${MIN_GROWING_BUDGET_BYTES} (1 MiB), e.g. 1073741824 for 1 GiB, or leave it unset for a quarter of the machine's memory (at most 4 GiB)`,
    );
  }
  return out;
}

/** How the process logs: MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT (format unset: chosen by the logger). */
export interface LogConfig {
  level: LogLevel;
  format?: 'json' | 'pretty';
}

/** Reads MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT; throws ConfigError on a value outside their lists. */
export function resolveLogConfig(env: NodeJS.ProcessEnv = process.env): LogConfig {
  const levelText = (env.MIGRANS_LOG_LEVEL ?? '').trim().toLowerCase();
  if (levelText !== '' && !(LOG_LEVELS as readonly string[]).includes(levelText)) {
    throw new ConfigError(`invalid MIGRANS_LOG_LEVEL ${JSON.stringify(env.MIGRANS_LOG_LEVEL)}: use one of ${LOG_LEVELS.join(', ')} (default info)`);
  }
  const formatText = (env.MIGRANS_LOG_FORMAT ?? '').trim().toLowerCase();
  if (formatText !== '' && formatText !== 'json' && formatText !== 'pretty') {
    throw new ConfigError(`invalid MIGRANS_LOG_FORMAT ${JSON.stringify(env.MIGRANS_LOG_FORMAT)}: use json or pretty (default pretty on a terminal, else json)`);
  }
  return { level: (levelText || 'info') as LogLevel, ...(formatText === '' ? {} : { format: formatText as 'json' | 'pretty' }) };
}
