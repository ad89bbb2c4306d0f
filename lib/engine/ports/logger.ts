/**
 * The logger port: one structured logger for every layer (engine, API, AWS roles, CLI). A line is a
 * level, a message and fields; the field names are fixed here (collection, channel, segment,
 * requestId, error) so the embedded JSON lines and the Lambda's powertools lines read the same.
 * `child` binds fields (a collection runtime binds `collection`, a request binds `requestId`).
 * An `error` field is serialized here, once, with its name, message, stack, typed fields (a
 * MilvusError's code, a Node error's errno) and causes, so no adapter prints `[object Object]`.
 * SinkLogger does the level filter, the field merge and the serialization; adapters only write
 * entries. The engine defaults to NOOP_LOGGER; the composition roots always pass a real one.
 */

/** Levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields of a log line: the known names below, and any other JSON-able value. */
export interface LogFields {
  collection?: string;
  channel?: string;
  segment?: number | string;
  requestId?: string;
  /** The failure; serialized with name, message, stack, typed fields and causes. */
  error?: unknown;
  [key: string]: unknown;
}

/** The logger every layer writes through. */
export interface Logger {
  /** Detail for debugging; off by default. */
  debug(message: string, fields?: LogFields): void;
  /** A normal event worth recording (a run's summary, a listening address). */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected that was recovered from (a retry, a fallback). */
  warn(message: string, fields?: LogFields): void;
  /** A failure someone should look at. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `fields` too (later fields win over bound ones). */
  child(fields: LogFields): Logger;
}

/** An error as a log field: plain JSON. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: SerializedError | unknown;
  [key: string]: unknown;
}

/** One line as an adapter receives it: fields merged and the error serialized. */
export interface LogEntry {
  time: Date;
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

/** How deep nested causes are followed (a cycle or a long chain stops here). */
const MAX_CAUSES = 4;

/** `err` as plain JSON: name, message, stack, its own typed fields (code, errno, ...) and causes. */
export function serializeError(err: unknown, depth = 0): SerializedError | unknown {
  if (!(err instanceof Error)) return err;
  const out: SerializedError = { name: err.name, message: err.message };
  if (err.stack !== undefined) out.stack = err.stack;
  for (const [key, value] of Object.entries(err)) {
    if (key === 'cause' || typeof value === 'function') continue;
    out[key] = typeof value === 'bigint' ? value.toString() : value;
  }
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Whether a logger at `min` writes a line at `level`. */
export function levelEnabled(min: LogLevel, level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(min);
}

/** A Logger over a sink: filters by level, merges bound fields, serializes the error field. */
export class SinkLogger implements Logger {
  constructor(
    private readonly sink: (entry: LogEntry) => void,
    /** Lines below this level are dropped. */
    readonly level: LogLevel = 'info',
    private readonly bound: LogFields = {},
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new SinkLogger(this.sink, this.level, { ...this.bound, ...fields });
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!levelEnabled(this.level, level)) return;
    const merged: Record<string, unknown> = { ...this.bound, ...fields };
    if (merged.error !== undefined) merged.error = serializeError(merged.error);
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    try {
      this.sink({ time: new Date(), level, message, fields: merged });
    } catch {
      // Logging must never turn into a failure of the operation that logs (a closed stderr, say).
    }
  }
}

/** Drops every line: the default where no logger is passed (tests of code that does not log). */
export const NOOP_LOGGER: Logger = new SinkLogger(() => undefined, 'error');
