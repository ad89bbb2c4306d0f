/**
 * The embedded deployment's logger: one line per entry on stderr. JSON lines (time, level,
 * message, then the fields: collection, channel, segment, requestId, error) for log collectors, or,
 * when stderr is a terminal, a readable one-line "pretty" form. Level and format come from
 * MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT (validated by lib/config.ts resolveLogConfig).
 */
import { SinkLogger, type LogEntry, type LogLevel, type Logger } from '../../engine/ports/logger.ts';

/** How the lines are written. */
export type LogFormat = 'json' | 'pretty';

/** Where and how the console logger writes. */
export interface ConsoleLoggerOptions {
  /** Default info. */
  level?: LogLevel;
  /** Default: pretty when the stream is a terminal, else json. */
  format?: LogFormat;
  /** Default process.stderr. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
}

/** A logger writing one line per entry to stderr (or `stream`). */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? (stream.isTTY ? 'pretty' : 'json');
  const line = format === 'json' ? jsonLine : prettyLine;
  return new SinkLogger((e) => stream.write(line(e) + '\n'), options.level ?? 'info');
}

/** JSON.stringify that writes bigints (primary keys, timestamps) as decimal strings. */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** An entry as one JSON object. */
export function jsonLine(e: LogEntry): string {
  return stringify({ time: e.time.toISOString(), level: e.level, message: e.message, ...e.fields });
}

/** An entry as `time LEVEL message key=value ... error=Name: message` on one line (no stack). */
export function prettyLine(e: LogEntry): string {
  const parts = [e.time.toISOString(), e.level.toUpperCase().padEnd(5), e.message];
  for (const [k, v] of Object.entries(e.fields)) {
    if (k === 'error' && typeof v === 'object' && v !== null && 'message' in v) {
      const err = v as { name?: unknown; message: unknown; code?: unknown };
      parts.push(`error=${JSON.stringify(`${String(err.name)}: ${String(err.message)}`)}${err.code === undefined ? '' : ` code=${stringify(err.code)}`}`);
    } else {
      parts.push(`${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : stringify(v)}`);
    }
  }
  return parts.join(' ').replace(/[\r\n]+/g, ' ');
}
