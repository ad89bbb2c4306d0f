/**
 * The autoID allocator: primary keys for collections with `autoID`, unique across every process of
 * a deployment (many API Lambda containers insert at once on AWS). A process claims blocks of
 * `blockSize` ids with a conditional write on one versioned KvStore key and hands ids out from its
 * block in memory; the next block is claimed in the background before the current one runs out.
 *
 * Why blocks never overlap: a block is the aligned range [v − blockSize, v) for a stored version v
 * that is a multiple of blockSize, and `putIfNewer` stores a version only if it exceeds the stored
 * one, so the versions that are ever stored are strictly increasing — each claim that succeeds owns
 * a block nobody else can. A claim starts at the stored mark, or at the hybrid timestamp of now when
 * that is higher: ids stay large and time-ordered like Milvus's (which are TSO timestamps), positive
 * int64, and above the timestamp-based ids older builds assigned.
 */
import type { KvStore } from '../ports/kv-store.ts';
import { composeTs } from '../tso.ts';
import { AUTO_ID_KEY } from './key-layout.ts';
import { checkVersionMark, versionMarkValue } from './version-mark.ts';

/** Ids one claim reserves by default. */
export const DEFAULT_AUTO_ID_BLOCK = 10_000;

/** Options of an `AutoIdAllocator`. */
export interface AutoIdOptions {
  /** Ids per claim (default 10,000). */
  blockSize?: number;
  /** Wall clock in ms (default `Date.now`); injectable for tests. */
  clock?: () => number;
}

/** Hands out autoIDs from blocks claimed in the KvStore. */
export class AutoIdAllocator {
  private readonly blockSize: bigint;
  private readonly clock: () => number;
  /** Claimed ranges not handed out yet, in order: [next, end). */
  private readonly ranges: { next: bigint; end: bigint }[] = [];
  /** The claim in flight, if any (one at a time: claims of one process never race each other). */
  private claiming: Promise<void> | undefined;

  constructor(
    private readonly kv: KvStore,
    options: AutoIdOptions = {},
  ) {
    const size = options.blockSize ?? DEFAULT_AUTO_ID_BLOCK;
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`autoID block size must be a positive integer, got ${size}`);
    this.blockSize = BigInt(size);
    this.clock = options.clock ?? Date.now;
  }

  /** Allocates `count` ids no other process (or call) ever gets; returns them in increasing order. */
  async allocate(count: number): Promise<bigint[]> {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`autoID count must be a non-negative integer, got ${count}`);
    const ids: bigint[] = [];
    while (ids.length < count) {
      const range = this.ranges[0];
      if (!range) {
        await this.claim();
        continue;
      }
      while (ids.length < count && range.next < range.end) ids.push(range.next++);
      if (range.next === range.end) this.ranges.shift();
    }
    // Refill before exhaustion, so an insert rarely waits for a claim.
    if (this.available() < this.blockSize / 2n) this.claim().catch(() => undefined); // a failed refill is retried by the next allocate
    return ids;
  }

  private available(): bigint {
    return this.ranges.reduce((n, r) => n + (r.end - r.next), 0n);
  }

  /** Claims one more block (joining the claim in flight, if any). */
  private claim(): Promise<void> {
    this.claiming ??= this.claimBlock().finally(() => (this.claiming = undefined));
    return this.claiming;
  }

  private async claimBlock(): Promise<void> {
    const b = this.blockSize;
    for (;;) {
      const [mark] = await this.kv.batchGetVersioned([AUTO_ID_KEY]);
      const now = composeTs(Math.floor(this.clock()), 0);
      if (mark) checkVersionMark(AUTO_ID_KEY, mark);
      const stored = mark?.version ?? 0n;
      // Aligned starts keep every claimed block [end − b, end) disjoint from every other one.
      const start = alignUp(stored > now ? stored : now, b);
      const end = start + b;
      const [won] = await this.kv.batchPutIfNewer([{ key: AUTO_ID_KEY, value: versionMarkValue(end), version: end }]);
      if (won) {
        this.ranges.push({ next: start === 0n ? 1n : start, end }); // ids are positive
        return;
      }
      // Another process claimed a block meanwhile: read the new mark and try above it.
    }
  }
}

function alignUp(v: bigint, b: bigint): bigint {
  return ((v + b - 1n) / b) * b;
}
