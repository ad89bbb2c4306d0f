/**
 * Hybrid timestamps (Milvus/TiKV TSO): `physical_ms << 18 | logical`, as unsigned 64-bit bigints.
 */

/** Bits of the logical counter. */
export const LOGICAL_BITS = 18;
/** Logical values per physical millisecond (2^18). */
export const LOGICAL_PER_MS = 1 << LOGICAL_BITS;
const LOGICAL_MASK = BigInt(LOGICAL_PER_MS - 1);
const SHIFT = BigInt(LOGICAL_BITS);

/** Builds a hybrid timestamp from wall-clock milliseconds and a logical counter in [0, 2^18). */
export function composeTs(ms: number, logical: number): bigint {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`physical time must be a non-negative integer of milliseconds, got ${ms}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical >= LOGICAL_PER_MS) {
    throw new RangeError(`logical counter must be an integer in [0, ${LOGICAL_PER_MS}), got ${logical}`);
  }
  return (BigInt(ms) << SHIFT) | BigInt(logical);
}

/** The physical part (Unix milliseconds) of a hybrid timestamp. */
export function physicalMs(ts: bigint): number {
  return Number(ts >> SHIFT);
}

/** The logical part of a hybrid timestamp. */
export function logicalOf(ts: bigint): number {
  return Number(ts & LOGICAL_MASK);
}

/** Options of a `Tso`. */
export interface TsoOptions {
  /** Wall clock in ms (default `Date.now`); injectable for tests. */
  clock?: () => number;
  /** Every allocated timestamp will be greater than this (e.g. the highest ts found in the WAL at startup). */
  floor?: bigint;
}

/**
 * Allocates strictly increasing hybrid timestamps from the wall clock. When the clock goes
 * backwards, or one millisecond's 2^18 logical values run out, it keeps counting from its own
 * last physical value (running ahead of the clock rather than waiting), so order never breaks.
 */
export class Tso {
  private readonly clock: () => number;
  /** Physical ms of the next timestamp to hand out. */
  private physical = 0;
  /** Logical counter of the next timestamp to hand out (may equal LOGICAL_PER_MS: "ms exhausted"). */
  private logical = 0;

  constructor(options: TsoOptions = {}) {
    this.clock = options.clock ?? Date.now;
    if (options.floor !== undefined) this.observe(options.floor);
  }

  /**
   * Allocates `count` consecutive timestamps and returns the first; the range is
   * `[first, first + count)`, all within one physical millisecond.
   */
  allocate(count = 1): bigint {
    if (!Number.isInteger(count) || count < 1 || count > LOGICAL_PER_MS) {
      throw new RangeError(`timestamp count must be an integer in [1, ${LOGICAL_PER_MS}], got ${count}`);
    }
    this.sync();
    if (this.logical + count > LOGICAL_PER_MS) {
      // This millisecond cannot hold the whole range: move to the next one.
      this.physical += 1;
      this.logical = 0;
    }
    const first = composeTs(this.physical, this.logical);
    this.logical += count;
    return first;
  }

  /**
   * Peeks at the timestamp the next `allocate()` would return now, without allocating. It is
   * greater than every timestamp allocated so far.
   */
  now(): bigint {
    this.sync();
    if (this.logical >= LOGICAL_PER_MS) return composeTs(this.physical + 1, 0);
    return composeTs(this.physical, this.logical);
  }

  /** Makes every later allocation greater than `ts` (call with timestamps seen in logs or from peers). */
  observe(ts: bigint): void {
    if (ts < 0n) throw new RangeError(`timestamp must be non-negative, got ${ts}`);
    const next = ts + 1n;
    const p = physicalMs(next);
    const l = logicalOf(next);
    if (p > this.physical || (p === this.physical && l > this.logical)) {
      this.physical = p;
      this.logical = l;
    }
  }

  /** Moves to the wall clock when it is ahead; a stale or backwards clock leaves the state alone. */
  private sync(): void {
    const ms = Math.floor(this.clock());
    if (ms > this.physical) {
      this.physical = ms;
      this.logical = 0;
    }
  }
}
