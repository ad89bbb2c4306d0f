/**
 * The pace of a process following a WAL other processes write (a querynode): a follow pass on
 * every tick while the tails move, and while they do not, passes that back off by doubling the
 * stride between them up to a maximum pause. An idle querynode then makes one consistent tail read
 * per channel every couple of seconds instead of ten a second (DynamoDB reads are billed). Reads
 * that wait for a timestamp learn the tails themselves, so only Eventually reads see the slower pace.
 */

/** Decides which follow ticks run a pass. */
export class FollowPacer {
  private skip = 0;
  private stride = 1;
  private readonly maxStride: number;

  /** `tickMs`: the follow timer's interval; `maxPauseMs`: the longest pause between passes while idle. */
  constructor(tickMs: number, maxPauseMs: number) {
    this.maxStride = Math.max(1, Math.ceil(maxPauseMs / tickMs));
  }

  /** Whether this tick runs a pass (false: it is skipped while idle). */
  tick(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  /** Records a pass's outcome (or a read's own look at the tails): a tail moved resets the pace, none widens it. */
  passed(moved: boolean): void {
    this.stride = moved ? 1 : Math.min(this.stride * 2, this.maxStride);
    this.skip = this.stride - 1;
  }

  /** A read found a tail moved: follow every tick again. */
  moved(): void {
    this.stride = 1;
    this.skip = 0;
  }
}
