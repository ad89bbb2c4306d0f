/**
 * Wal: per-channel ordered logs of mutation records. Adapters: memory, local fsync'd log files, Kinesis.
 * A channel is named by a string (e.g. `c42-0`: collection 42, shard 0). Records are opaque bytes.
 */

/** A position in a channel: records are numbered 0, 1, 2… in append order within a channel. */
export type WalPosition = bigint;

/** One record as read back. */
export interface WalRecord {
  /** Position of this record; the next record is at `position + 1n`. */
  position: WalPosition;
  data: Uint8Array;
}

export interface Wal {
  /**
   * Appends records to a channel durably (fsync'd or acknowledged by the service) and returns the
   * position of the first; the rest follow contiguously. Concurrent appends to one channel are
   * serialized; the local adapter group-commits them into one fsync.
   */
  append(channel: string, records: Uint8Array[]): Promise<WalPosition>;
  /** Records of a channel from `from` (inclusive), at most `limit`, in order. Empty at the tail; beyond it, an error. */
  read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]>;
  /** The position the next appended record will get (0 for an empty channel). */
  tail(channel: string): Promise<WalPosition>;
  /**
   * Discards records before `position` (they are covered by a checkpoint); reading them afterwards
   * is an error. Adapters may keep some of them (whole files) until the next reopen.
   */
  truncate(channel: string, before: WalPosition): Promise<void>;
  /** Removes a channel and all its records (collection dropped). */
  dropChannel(channel: string): Promise<void>;
  /** Flushes and closes files. */
  close(): Promise<void>;
}
