/**
 * The one account of insert data held in memory across every collection, channel and partition of
 * a process: rows of growing segments, of sealed segments not yet flushed, and of admitted inserts
 * whose WAL records are not applied yet. Without it every channel × partition could grow a
 * 128 MiB segment and a busy server die out of memory.
 *
 * Two thresholds: at `budgetBytes` of growing data the largest growing segment is sealed early
 * (its channel gets a flush record, so every process cuts the same segments); above `limitBytes`
 * of everything counted, inserts are refused with Milvus's quota error until flushes catch up.
 * Bytes are the engine's row estimate (estimatedRowBytes), the one segments are sealed by.
 */
import { MemoryQuotaError } from './errors.ts';
import type { Segment } from './segment/segment.ts';

/** A growing segment's account. */
interface GrowingEntry {
  bytes: number;
  /** Its channel: one flush record seals every growing segment of it. */
  channel: string;
  /** A flush record for its channel was asked for and not yet applied. */
  sealRequested: boolean;
  requestSeal: () => Promise<unknown>;
}

/** Bytes of one admitted insert's record on one channel, held until the channel applies it. */
interface Pending {
  ts: bigint;
  bytes: number;
}

/** An admitted insert's reservation: placed per channel when its records get their timestamp, released as they are applied. */
export interface Admission {
  /** Spreads the reservation over the records the insert appends (before any append starts). */
  place(records: { channel: string; ts: bigint; bytes: number }[]): void;
  /** Releases what is still reserved (the append failed). */
  cancel(): void;
}

/** Current figures, for tests and diagnostics. */
export interface GrowingUsage {
  growingBytes: number;
  sealedBytes: number;
  reservedBytes: number;
  /** Highest growing + sealed + reserved seen so far. */
  peakBytes: number;
}

/** The process-wide account of growing data (see the module comment). */
export class GrowingMemory {
  private readonly growing = new Map<Segment, GrowingEntry>();
  private readonly sealed = new Map<Segment, number>();
  private readonly pending = new Map<string, Pending[]>();
  private growingBytes = 0;
  private sealedBytes = 0;
  private reservedBytes = 0;
  private peakBytes = 0;

  /** Everything counted above which inserts are refused: 1.5 × the budget, room for flushes to catch up. */
  readonly limitBytes: number;

  /** `budgetBytes`: growing data at which the largest growing segment is sealed early. */
  constructor(readonly budgetBytes: number) {
    this.limitBytes = Math.floor(budgetBytes * 1.5);
  }

  /** Current figures. */
  usage(): GrowingUsage {
    return { growingBytes: this.growingBytes, sealedBytes: this.sealedBytes, reservedBytes: this.reservedBytes, peakBytes: this.peakBytes };
  }

  /**
   * Reserves room for an insert of `bytes`, or throws MemoryQuotaError (nothing is reserved then):
   * the caller appends nothing.
   */
  admit(bytes: number): Admission {
    const used = this.growingBytes + this.sealedBytes + this.reservedBytes;
    if (used + bytes > this.limitBytes) throw new MemoryQuotaError(bytes, used, this.limitBytes, this.budgetBytes);
    this.reservedBytes += bytes;
    this.notePeak();
    let unplaced = bytes;
    const placed: { channel: string; item: Pending }[] = [];
    const admission: Admission = {
      place: (records) => {
        for (const r of records) {
          const bytesHere = Math.min(r.bytes, unplaced);
          unplaced -= bytesHere;
          const item: Pending = { ts: r.ts, bytes: bytesHere };
          let list = this.pending.get(r.channel);
          if (!list) this.pending.set(r.channel, (list = []));
          list.push(item);
          placed.push({ channel: r.channel, item });
        }
        // Rows routed to channels applied elsewhere are not held here.
        this.reservedBytes -= unplaced;
        unplaced = 0;
      },
      cancel: () => {
        for (const { channel, item } of placed) this.release(channel, item);
        this.reservedBytes -= unplaced;
        unplaced = 0;
      },
    };
    return admission;
  }

  private release(channel: string, item: Pending): void {
    const list = this.pending.get(channel);
    const i = list?.indexOf(item) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.pending.delete(channel);
    this.reservedBytes -= item.bytes;
  }

  /**
   * A channel applied an insert record at `ts` into `seg`, which now holds `bytes`: the record's
   * reservation turns into growing data in one step; then, at the budget, seals the largest
   * growing segments early (through `requestSeal` of their channel).
   */
  grew(channel: string, ts: bigint, seg: Segment, bytes: number, requestSeal: () => Promise<unknown>): void {
    const list = this.pending.get(channel);
    if (list) for (const item of list.filter((p) => p.ts <= ts)) this.release(channel, item);
    const entry = this.growing.get(seg);
    if (entry) {
      this.growingBytes += bytes - entry.bytes;
      entry.bytes = bytes;
    } else {
      this.growing.set(seg, { bytes, channel, sealRequested: false, requestSeal });
      this.growingBytes += bytes;
    }
    this.notePeak();
    this.sealLargest();
  }

  /** Asks for seals, largest growing segment first, until what is not being sealed fits the budget. */
  private sealLargest(): void {
    let unsealed = 0;
    for (const e of this.growing.values()) if (!e.sealRequested) unsealed += e.bytes;
    while (unsealed >= this.budgetBytes) {
      let largest: GrowingEntry | undefined;
      for (const e of this.growing.values()) if (!e.sealRequested && (!largest || e.bytes > largest.bytes)) largest = e;
      if (!largest) return;
      const channel = largest.channel;
      const sameChannel = [...this.growing.values()].filter((e) => e.channel === channel && !e.sealRequested);
      for (const e of sameChannel) {
        e.sealRequested = true;
        unsealed -= e.bytes;
      }
      // A failed append leaves them unsealed: a later insert asks again.
      largest.requestSeal().catch(() => {
        for (const e of sameChannel) e.sealRequested = false;
      });
    }
  }

  /** A growing segment was sealed: its rows count as sealed until flushed. */
  sealedSegment(seg: Segment): void {
    const entry = this.growing.get(seg);
    if (!entry) return;
    this.growing.delete(seg);
    this.growingBytes -= entry.bytes;
    this.sealed.set(seg, entry.bytes);
    this.sealedBytes += entry.bytes;
  }

  /** A segment's rows no longer count (flushed, emptied or closed). */
  released(seg: Segment): void {
    const entry = this.growing.get(seg);
    if (entry) {
      this.growing.delete(seg);
      this.growingBytes -= entry.bytes;
    }
    const sealed = this.sealed.get(seg);
    if (sealed !== undefined) {
      this.sealed.delete(seg);
      this.sealedBytes -= sealed;
    }
  }

  /** A runtime closed: forgets its segments and what was reserved on its channels. */
  closed(segments: Iterable<Segment>, channels: string[]): void {
    for (const seg of segments) this.released(seg);
    for (const channel of channels) for (const item of [...(this.pending.get(channel) ?? [])]) this.release(channel, item);
  }

  private notePeak(): void {
    const total = this.growingBytes + this.sealedBytes + this.reservedBytes;
    if (total > this.peakBytes) this.peakBytes = total;
  }
}
