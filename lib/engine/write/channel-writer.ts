/**
 * The write side of a collection (the proxy's role): routes keys to channels, allocates one
 * timestamp per write and appends one WAL record per channel. A write is acknowledged once every
 * channel's append is; the records are applied wherever the channel's applier runs.
 */
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import { encodeWalRecord, type WalRecordBody } from '../codec/wal-record-codec.ts';
import { DiskFullError, DiskLimitError } from '../errors.ts';
import { channelOf } from '../hash.ts';
import type { InsertBatch } from '../schema/batch.ts';
import type { PrimaryKey } from '../schema/types.ts';

/** Appends a collection's writes to its channels' WALs. */
export class ChannelWriter {
  /**
   * @param appended learns of each append that settled (the channel's pump, where this process
   *   applies the channel, reads on).
   */
  constructor(
    private readonly s: CollectionState,
    private readonly appended: (ch: ChannelState) => void,
  ) {}

  /** The channel a key routes to. */
  channelFor(pk: PrimaryKey): ChannelState {
    return this.s.channels[channelOf(pk, this.s.channels.length)];
  }

  /**
   * Appends one record per channel with one timestamp. Timestamp allocation and the append calls
   * happen in one synchronous block, so each channel's WAL order is timestamp order. Every record is
   * encoded before the first append: an encoding failure appends nothing and leaves no channel
   * counting an append in flight (which would hold its tSafe, and every Strong read, forever).
   */
  async appendRecords(build: (ts: bigint) => Map<ChannelState, WalRecordBody>): Promise<bigint> {
    this.s.assertOpen();
    const ts = this.s.deps.tso.allocate();
    const records = [...build(ts)].map(([ch, body]) => [ch, encodeWalRecord(body, this.s.info.schema)] as const);
    for (const [ch] of records) if (ch.unavailable) throw ch.unavailable; // before any append: no partial write
    const appends: Promise<void>[] = [];
    for (const [ch, encoded] of records) {
      ch.inFlight++;
      appends.push(
        this.s.deps.wal
          .append(ch.name, [encoded])
          .then((pos) => {
            if (pos + 1n > ch.knownTail) ch.knownTail = pos + 1n;
          })
          .finally(() => {
            ch.inFlight--;
            this.appended(ch);
          }),
      );
    }
    const results = await Promise.allSettled(appends);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    if (failed.length > 0) throw appendFailure(failed, results.length);
    return ts;
  }

  /**
   * Splits an insert batch by channel and appends it. `onRecords` learns the timestamp and each
   * channel's rows before any append starts (the memory budget's admission places its reservation).
   */
  appendInsert(batch: InsertBatch, pks: PrimaryKey[], partition: string, upsert: boolean, onRecords?: (ts: bigint, rows: Map<ChannelState, number[]>) => void): Promise<bigint> {
    const rowsByChannel = groupBy(
      pks,
      (pk) => this.channelFor(pk),
      (_, i) => i,
    );
    const single = rowsByChannel.size === 1;
    return this.appendRecords((ts) => {
      onRecords?.(ts, rowsByChannel);
      const out = new Map<ChannelState, WalRecordBody>();
      for (const [ch, rows] of rowsByChannel) {
        out.set(ch, { kind: 'insert', ts, collectionId: this.s.info.collectionId, partition, upsert, batch: single ? batch : sliceBatch(batch, rows) });
      }
      return out;
    });
  }

  /** Appends deletes of the given keys, routed by channel. */
  appendDelete(pks: PrimaryKey[], partition: string): Promise<bigint> {
    const byChannel = groupBy(
      pks,
      (pk) => this.channelFor(pk),
      (pk) => pk,
    );
    return this.appendRecords((ts) => {
      const out = new Map<ChannelState, WalRecordBody>();
      for (const [ch, list] of byChannel) out.set(ch, { kind: 'delete', ts, collectionId: this.s.info.collectionId, partition, pks: list });
      return out;
    });
  }

  /** Appends a flush record to the given channels: their growing segments seal where their applier reaches it. */
  appendFlushRecords(channels: ChannelState[]): Promise<bigint> {
    for (const ch of channels) ch.flushPending = true;
    return this.appendRecords((ts) => new Map(channels.map((ch) => [ch, { kind: 'flush', ts, collectionId: this.s.info.collectionId } as WalRecordBody])));
  }
}

/** `items` grouped by channel, each group holding `pick(item, index)`. */
function groupBy<T, V>(items: T[], channel: (item: T) => ChannelState, pick: (item: T, index: number) => V): Map<ChannelState, V[]> {
  const out = new Map<ChannelState, V[]>();
  for (let i = 0; i < items.length; i++) {
    const ch = channel(items[i]);
    let list = out.get(ch);
    if (!list) out.set(ch, (list = []));
    list.push(pick(items[i], i));
  }
  return out;
}

/**
 * The error for a write whose WAL appends failed on some channels: a full disk becomes a
 * DiskLimitError (Milvus code 7), saying whether any channel's share was written.
 */
function appendFailure(failed: Error[], channels: number): Error {
  const full = failed.find((e) => e instanceof DiskFullError);
  if (!full) return failed[0];
  const written = failed.length < channels || failed.some((e) => !(e instanceof DiskFullError));
  return new DiskLimitError(channels, written ? channels - failed.length : undefined, full);
}

/** The rows `rows` of a batch, as a new batch. */
function sliceBatch(batch: InsertBatch, rows: number[]): InsertBatch {
  const columns = new Map<string, InsertBatch['columns'] extends Map<string, infer V> ? V : never>();
  for (const [name, values] of batch.columns)
    columns.set(
      name,
      rows.map((r) => values[r]),
    );
  return { rowCount: rows.length, columns, dynamic: batch.dynamic ? rows.map((r) => batch.dynamic![r]) : null };
}
