/**
 * The shared WAL as a datanode truncates it: a truncation takes effect only once it is `graceMs`
 * old. Querynodes read the same channels at their own pace; truncating at the datanode's checkpoint
 * would cut off one that is a few records behind (it could then never catch up). Kinesis keeps the
 * bytes for the stream's retention anyway: truncation only moves the index's first position.
 */
import type { Wal, WalPosition, WalRecord } from '../engine/ports/wal.ts';

/** How long a querynode may lag behind a checkpoint before the records it needs are truncated. */
export const TRUNCATE_GRACE_MS = 60 * 60 * 1000;

/** A Wal whose truncations wait `graceMs` (pending ones are forgotten when the process ends: harmless). */
export class DeferredTruncateWal implements Wal {
  /** Per channel, truncation requests not yet applied, oldest first. */
  private readonly pending = new Map<string, { before: WalPosition; at: number }[]>();

  constructor(
    private readonly wal: Wal,
    private readonly graceMs = TRUNCATE_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    return this.wal.append(channel, records);
  }

  read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    return this.wal.read(channel, from, limit);
  }

  tail(channel: string): Promise<WalPosition> {
    return this.wal.tail(channel);
  }

  /** Remembers the request and applies the newest one that has aged `graceMs`. */
  async truncate(channel: string, before: WalPosition): Promise<void> {
    const list = this.pending.get(channel) ?? [];
    list.push({ before, at: this.now() });
    let due: WalPosition | undefined;
    while (list.length > 0 && this.now() - list[0].at >= this.graceMs) due = list.shift()!.before;
    if (list.length > 0) this.pending.set(channel, list);
    else this.pending.delete(channel);
    if (due !== undefined) await this.wal.truncate(channel, due);
  }

  dropChannel(channel: string): Promise<void> {
    this.pending.delete(channel);
    return this.wal.dropChannel(channel);
  }

  close(): Promise<void> {
    return this.wal.close();
  }
}
