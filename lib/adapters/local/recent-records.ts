/**
 * The most recently appended records of one WAL channel, kept as the framed buffers that were just
 * written. Consumers tailing a channel read close behind the writer, so serving them from memory
 * skips a file read per call (a thread-pool round trip costs more than copying the bytes).
 */
import type { WalPosition, WalRecord } from '../../engine/ports/wal.ts';
import { FRAME_HEADER_BYTES } from './wal-segment-format.ts';

/** One acknowledged append: `count` framed records starting at `first`. */
interface Entry {
  first: WalPosition;
  count: number;
  frames: Uint8Array;
  /** Frame offsets, built the first time a read starts inside a many-record entry. */
  offsets: Uint32Array | undefined;
}

/** Entries below this many records are walked frame by frame rather than indexed. */
const INDEX_THRESHOLD = 16;

/** A byte-bounded window of the newest acknowledged records, contiguous up to the channel tail. */
export class RecentRecords {
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;

  /** `capacity` bytes of frames at most (0 disables the cache). */
  constructor(private readonly capacity: number) {}

  /** Adds an acknowledged append (the caller no longer mutates `frames`), evicting the oldest past capacity. */
  add(first: WalPosition, count: number, frames: Uint8Array): void {
    if (this.capacity <= 0) return;
    this.entries.push({ first, count, frames, offsets: undefined });
    this.bytes += frames.length;
    while (this.bytes > this.capacity && this.head < this.entries.length) this.bytes -= this.entries[this.head++].frames.length;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets entries that lie wholly before `position` (truncated away). */
  dropBefore(position: WalPosition): void {
    while (this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (e.first + BigInt(e.count) > position) break;
      this.bytes -= e.frames.length;
      this.head++;
    }
  }

  /**
   * Appends copies of records [from, end) to `out` when the window holds `from` (the window always
   * reaches the tail, so it then holds the whole range). Returns false, adding nothing, otherwise.
   */
  read(from: WalPosition, end: WalPosition, out: WalRecord[]): boolean {
    if (this.head >= this.entries.length || from < this.entries[this.head].first) return false;
    const want = Number(end - from);
    // Locate every payload first so all copies go into one allocation.
    const spans = new Array<Uint8Array>(want);
    let total = 0;
    let j = this.find(from);
    let e = this.entries[j];
    let k = Number(from - e.first);
    let o = this.offsetOf(e, k);
    let dv = new DataView(e.frames.buffer, e.frames.byteOffset, e.frames.byteLength);
    for (let n = 0; n < want; n++) {
      const len = dv.getUint32(o, true);
      spans[n] = e.frames.subarray(o + FRAME_HEADER_BYTES, o + FRAME_HEADER_BYTES + len);
      total += len;
      o += FRAME_HEADER_BYTES + len;
      if (++k === e.count && n + 1 < want) {
        e = this.entries[++j];
        dv = new DataView(e.frames.buffer, e.frames.byteOffset, e.frames.byteLength);
        k = 0;
        o = 0;
      }
    }
    // Copies: callers may mutate what they get, and the cached frames must stay intact.
    const copy = new Uint8Array(total);
    let at = 0;
    for (let n = 0; n < want; n++) {
      const span = spans[n];
      copy.set(span, at);
      out.push({ position: from + BigInt(n), data: copy.subarray(at, at + span.length) });
      at += span.length;
    }
    return true;
  }

  /** Index of the entry holding `position` (which is within the window). */
  private find(position: WalPosition): number {
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.entries[mid].first <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Byte offset of record `index` within an entry's frames. */
  private offsetOf(e: Entry, index: number): number {
    if (index === 0) return 0;
    if (e.count < INDEX_THRESHOLD) return walk(e.frames, index);
    if (!e.offsets) {
      e.offsets = new Uint32Array(e.count);
      const dv = new DataView(e.frames.buffer, e.frames.byteOffset, e.frames.byteLength);
      for (let k = 0, o = 0; k < e.count; k++) {
        e.offsets[k] = o;
        o += FRAME_HEADER_BYTES + dv.getUint32(o, true);
      }
    }
    return e.offsets[index];
  }
}

/** Offset of frame `index` found by stepping over the frames before it. */
function walk(frames: Uint8Array, index: number): number {
  const dv = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  let o = 0;
  for (let k = 0; k < index; k++) o += FRAME_HEADER_BYTES + dv.getUint32(o, true);
  return o;
}
