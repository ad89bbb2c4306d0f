/** Argument rules and errors shared by every Wal adapter, so all of them reject the same calls the same way. */
import { WalTruncatedError } from '../engine/errors.ts';
import type { WalPosition } from '../engine/ports/wal.ts';
import { describe } from './key-rules.ts';

/** Channel names: a letter, digit or '_' then up to 127 of those or '-' (safe as file and stream names). */
const CHANNEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;

/** Largest single record: generous for insert batches, far below the u32 frame length. */
export const MAX_WAL_RECORD_BYTES = 256 * 1024 * 1024;

/** Throws unless `channel` is a safe channel name such as `c12-0`. */
export function checkChannel(channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || !CHANNEL_NAME.test(channel)) {
    throw new RangeError(`invalid WAL channel name ${describe(channel)}: use letters, digits, '_' and '-' (not first), at most 128 characters, e.g. 'c12-0'`);
  }
}

/** Throws unless `records` is an array of Uint8Arrays each at most MAX_WAL_RECORD_BYTES. */
export function checkRecords(channel: string, records: unknown): asserts records is Uint8Array[] {
  if (!Array.isArray(records)) throw new TypeError(`append to WAL channel ${channel} takes an array of Uint8Array records, got ${describe(records)}`);
  for (let i = 0; i < records.length; i++) {
    const r: unknown = records[i];
    if (!(r instanceof Uint8Array)) throw new TypeError(`WAL record ${i} for channel ${channel} must be a Uint8Array, got ${describe(r)}`);
    if (r.length > MAX_WAL_RECORD_BYTES) {
      throw new RangeError(`WAL record ${i} for channel ${channel} is ${r.length} bytes, more than the ${MAX_WAL_RECORD_BYTES} allowed; split it`);
    }
  }
}

/** Throws unless `position` is a non-negative bigint. */
export function checkPosition(channel: string, position: unknown, what: string): asserts position is bigint {
  if (typeof position !== 'bigint' || position < 0n) {
    throw new RangeError(`${what} for WAL channel ${channel} must be a non-negative bigint, got ${describe(position)}`);
  }
}

/** Throws unless `limit` is a positive integer. */
export function checkLimit(channel: string, limit: unknown): asserts limit is number {
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    throw new RangeError(`read limit for WAL channel ${channel} must be a positive integer, got ${describe(limit)}`);
  }
}

/** The error for reading a position that truncate() discarded. */
export function truncatedError(channel: string, position: WalPosition, first: WalPosition): WalTruncatedError {
  return new WalTruncatedError(channel, position, first);
}

/** The error for reading beyond the tail (a checkpoint ahead of the log means lost or foreign data). */
export function beyondTailError(channel: string, position: WalPosition, tail: WalPosition): RangeError {
  return new RangeError(`cannot read WAL channel ${channel} from position ${position}: the tail is ${tail} (the next record appended gets ${tail}); read from at most the tail`);
}

/** The error for truncating beyond the tail. */
export function truncateBeyondTailError(channel: string, before: WalPosition, tail: WalPosition): RangeError {
  return new RangeError(`cannot truncate WAL channel ${channel} before position ${before}: the tail is ${tail}; truncate at most up to the tail`);
}
