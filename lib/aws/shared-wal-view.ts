/**
 * A querynode's view of the shared WAL: it reads and appends (deletes resolved from a filter) like
 * any process, but never truncates or drops channels — the datanode that owns a channel does, once
 * its checkpoint passes the records.
 */
import type { Wal, WalPosition, WalRecord } from '../engine/ports/wal.ts';

/** The shared WAL without truncate, dropChannel and close. */
export class SharedWalView implements Wal {
  constructor(private readonly wal: Wal) {}

  append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    return this.wal.append(channel, records);
  }

  read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    return this.wal.read(channel, from, limit);
  }

  tail(channel: string): Promise<WalPosition> {
    return this.wal.tail(channel);
  }

  /** Not this process's to do: a no-op. */
  async truncate(): Promise<void> {}

  /** Not this process's to do: a no-op. */
  async dropChannel(): Promise<void> {}

  /** The shared WAL belongs to whoever opened the shared stores: a no-op. */
  async close(): Promise<void> {}
}
