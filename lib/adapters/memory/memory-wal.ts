/** Wal held in process memory, for tests and throwaway engines. */
import { StorageError } from '../../engine/errors.ts';
import type { Wal, WalPosition, WalRecord } from '../../engine/ports/wal.ts';
import { beyondTailError, checkChannel, checkLimit, checkPosition, checkRecords, truncateBeyondTailError, truncatedError } from '../wal-rules.ts';

/** One channel: records from position `first` on; `head` skips truncated entries without shifting the array each time. */
interface MemoryChannel {
  records: Uint8Array[];
  head: number;
  first: WalPosition;
}

/** A Wal in arrays. Records are copied in and out so callers cannot alias them. */
export class MemoryWal implements Wal {
  private readonly channels = new Map<string, MemoryChannel>();
  private closed = false;

  async append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    this.checkOpen();
    checkChannel(channel);
    checkRecords(channel, records);
    const ch = this.channel(channel);
    const position = tailOf(ch);
    for (const r of records) ch.records.push(r.slice());
    return position;
  }

  async read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    this.checkOpen();
    checkChannel(channel);
    checkPosition(channel, from, 'read position');
    checkLimit(channel, limit);
    const ch = this.channels.get(channel) ?? emptyChannel();
    const tail = tailOf(ch);
    if (from < ch.first) throw truncatedError(channel, from, ch.first);
    if (from > tail) throw beyondTailError(channel, from, tail);
    const start = ch.head + Number(from - ch.first);
    const end = Math.min(ch.records.length, start + limit);
    const out: WalRecord[] = new Array(end - start);
    for (let i = start; i < end; i++) out[i - start] = { position: from + BigInt(i - start), data: ch.records[i].slice() };
    return out;
  }

  async tail(channel: string): Promise<WalPosition> {
    this.checkOpen();
    checkChannel(channel);
    const ch = this.channels.get(channel);
    return ch ? tailOf(ch) : 0n;
  }

  async truncate(channel: string, before: WalPosition): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    checkPosition(channel, before, 'truncate position');
    const ch = this.channel(channel);
    const tail = tailOf(ch);
    if (before > tail) throw truncateBeyondTailError(channel, before, tail);
    if (before <= ch.first) return;
    const head = ch.head + Number(before - ch.first);
    for (let i = ch.head; i < head; i++) ch.records[i] = DISCARDED; // let the bytes be collected now
    ch.head = head;
    ch.first = before;
    // Compact once the dead prefix dominates, so truncation stays amortized O(1) per record.
    if (ch.head > 1024 && ch.head * 2 > ch.records.length) {
      ch.records = ch.records.slice(ch.head);
      ch.head = 0;
    }
  }

  async dropChannel(channel: string): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    this.channels.delete(channel);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private channel(name: string): MemoryChannel {
    let ch = this.channels.get(name);
    if (!ch) this.channels.set(name, (ch = emptyChannel()));
    return ch;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('MemoryWal is closed; create a new one');
  }
}

/** Placeholder for truncated slots until the array is compacted. */
const DISCARDED = new Uint8Array(0);

/** A channel with no records. */
function emptyChannel(): MemoryChannel {
  return { records: [], head: 0, first: 0n };
}

/** The position the next appended record gets. */
function tailOf(ch: MemoryChannel): WalPosition {
  return ch.first + BigInt(ch.records.length - ch.head);
}
