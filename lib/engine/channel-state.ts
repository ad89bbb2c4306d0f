/** The consumer-side state of one channel (collection shard) and its tSafe bookkeeping. */
import type { Segment } from './segment/segment.ts';

/** Name of the WAL channel of shard `index` of a collection. */
export function channelName(collectionId: number, index: number): string {
  return `c${collectionId}-${index}`;
}

/** The collection id of a channel name `c<collectionId>-<shard>`, or undefined for other names. */
export function collectionOfChannel(channel: string): number | undefined {
  const m = /^c(\d+)-\d+$/.exec(channel);
  return m ? Number(m[1]) : undefined;
}

/** One channel's replay position, growing segments and visibility watermark. */
export class ChannelState {
  /** Position of the next record to apply. */
  applied = 0n;
  /** Effective timestamp of the last applied record. */
  lastTs = 0n;
  /** Position after the last record known to be in the WAL. */
  knownTail = 0n;
  /**
   * Position the apply loop stops before, when set: a datanode applies up to the end of the batch
   * the event source handed it, so that it never reads ahead what the next batch delivers anyway.
   */
  applyLimit: bigint | undefined = undefined;
  /** Clock ms at which the tail read that `knownTail` reflects began (0: never read): every append acknowledged before then is below it. */
  tailReadAt = 0;
  /** Appends called but not yet acknowledged. */
  inFlight = 0;
  /** Partition name → its growing segment on this channel. */
  readonly growing = new Map<string, Segment>();
  /** Wall-clock ms of the last applied insert (for idle sealing); starts at the channel's opening. */
  lastInsertAt: number;
  /** A flush record is in the WAL and not applied yet (avoids piling up idle seals). */
  flushPending = false;
  /** Set when applying a record failed: reads fail fast with it instead of waiting. */
  error: Error | undefined;
  /** Set when the channel cannot be applied at all (its WAL turned out damaged while applying it): writes to it are refused with it. */
  unavailable: Error | undefined;
  /** The running apply loop, if any. */
  pumping: Promise<void> | null = null;
  /** More records arrived while the loop was reading. */
  pumpAgain = false;
  private wake: (() => void) | null = null;
  private progressPromise: Promise<void> | null = null;

  constructor(
    readonly name: string,
    readonly index: number,
    openedAt: number,
  ) {
    this.lastInsertAt = openedAt;
  }

  /** Resolves at the next progress notification (apply or append). */
  progress(): Promise<void> {
    if (!this.progressPromise) this.progressPromise = new Promise((r) => (this.wake = r));
    return this.progressPromise;
  }

  /** Wakes every reader waiting on progress. */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    this.progressPromise = null;
    w?.();
  }

  /** Whether every acknowledged record has been applied and none is in flight. */
  caughtUp(): boolean {
    return this.inFlight === 0 && this.applied >= this.knownTail;
  }
}
