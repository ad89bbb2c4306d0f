/**
 * A logger that keeps its lines in memory, at every level, so tests assert that a fault was logged
 * (with its fields) instead of spying on the console. Children share the parent's entries.
 */
import { SinkLogger, type LogEntry, type LogLevel } from '../../engine/ports/logger.ts';

/** Collects every entry it and its children write. */
export class MemoryLogger extends SinkLogger {
  /** Every line written so far, oldest first. */
  readonly entries: LogEntry[];

  constructor(level: LogLevel = 'debug') {
    const entries: LogEntry[] = [];
    super((e) => entries.push(e), level);
    this.entries = entries;
  }

  /** The entries at `level`. */
  at(level: LogLevel): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }
}
