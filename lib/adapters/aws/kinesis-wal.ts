/**
 * Wal on Kinesis Data Streams plus a small DynamoDB position index (kinesis-wal-index.ts).
 *
 * Channels → shards: one stream (created by the deployment with a fixed shard count) carries every
 * channel; a channel is pinned to one shard by ExplicitHashKey = that shard's starting hash key, never
 * Kinesis's MD5 routing of the partition key. Channels named `<base>-<n>` (the engine's `c42-3`) go to
 * shard (hash(base) + n) mod shards, so a collection's channels land on distinct shards. One shared
 * stream, rather than one per collection, lets the stack create the stream and its Lambda event source
 * once; creating a collection creates no AWS resources. Several channels may share a shard (records
 * carry their channel in a header); readers skip the other channels' records.
 *
 * Positions: Kinesis sequence numbers are not contiguous, so an append (1) puts its records with
 * PutRecords, then (2) commits them in one DynamoDB transaction that moves the channel's tail from T
 * to T + n only if it is still T, writing the position → sequence-number index in the same
 * transaction. Many writers (API Lambdas) may append to one channel: a writer that loses the commit
 * race re-reads the tail and re-puts its records at the new positions; the records it put first are
 * orphans that no index item names and every reader skips. So positions are contiguous, an append is
 * visible exactly when acknowledged, and `tail()` is exact (one consistent read of the head). Committed
 * positions follow shard order: a writer can only commit at T after reading T, i.e. after the previous
 * commit, whose records were put before it.
 *
 * PutRecords may fail some entries and not others. Retrying only the failed ones would put them
 * behind later records of the same channel, so on a partial failure the whole suffix from the first
 * failed entry is put again (records after it that did land become orphans).
 *
 * Records larger than one Kinesis record (1 MiB) are split into consecutive fragments.
 * truncate() moves the channel's first readable position; Kinesis cannot delete, so the bytes stay
 * until the stream's retention expires them. dropChannel() starts a new epoch for the channel.
 *
 * Resharding (SplitShard, MergeShards, UpdateShardCount, on-demand scaling) is supported because reads
 * never follow a shard: every index item names the shard and sequence numbers of its records, so a
 * read goes to the closed parent for positions committed before the reshard and to the child for the
 * ones after, and per-channel order is the position order the index commits, whatever the shards.
 * After a reshard a channel's ExplicitHashKey (still the starting key of the shard it was pinned to)
 * lands in the child whose range holds it; a put that lands on another shard than the listing said
 * makes the next append list the shards again, so channels spread over the children. An index item
 * holds one shard, so an append that straddles the reshard gets one item per shard; a record whose
 * fragments straddle it is put again from its first fragment (the earlier copies become orphans).
 * Per shard, committed positions still follow sequence order, which is all a read relies on. A closed
 * shard that aged past the stream's retention is gone, with its records: reading them is NotFound.
 *
 * A consumer that Kinesis already handed records to (the ingest Lambda's event source batch) offers
 * them with `offerDelivered`: reads take records found there instead of getting them from the shard
 * again, so a datanode reads each byte of the stream once. A record may be delivered before its
 * append commits its position (it is put first), so offered records wait, up to a bound, for the
 * read that needs them.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CorruptDataError, NotFoundError, StorageError } from '../../engine/errors.ts';
import { murmur3_32 } from '../../engine/hash.ts';
import type { Wal, WalPosition, WalRecord } from '../../engine/ports/wal.ts';
import { describe } from '../key-rules.ts';
import { beyondTailError, checkChannel, checkLimit, checkPosition, checkRecords, truncateBeyondTailError, truncatedError } from '../wal-rules.ts';
import { awsErrorName, backoffDelay, DEFAULT_BACKOFF, storageError, withRetries } from './aws-errors.ts';
import { hookAwsClient } from './client-hook.ts';
import { decodeKinesisRecord, encodeKinesisRecord, headerBytes, MAX_FRAGMENTS } from './kinesis-record-format.ts';
import { WalPositionIndex, type ChannelHead, type IndexedBatch } from './kinesis-wal-index.ts';

/** Kinesis's limit on one record's data plus partition key. */
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;
/** PutRecords takes at most this many entries. */
const PUT_RECORDS_MAX = 500;
/** PutRecords takes at most this many bytes (data plus partition keys). */
const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
/** Positions per index item (bounds the item's size, and how far back a read looks). */
const POSITIONS_PER_INDEX_ITEM = 500;
/** How many times an append re-reads the tail after losing the commit race before giving up. */
const MAX_COMMIT_RACES = 25;
/** How many times an append re-puts a record whose fragments a reshard split over two shards before giving up. */
const MAX_STRADDLE_REPUTS = 5;

/** Options of a KinesisWal. */
export interface KinesisWalOptions {
  /** The stream carrying every channel. */
  streamName: string;
  /** The DynamoDB table holding channel heads and the position index. */
  indexTableName: string;
  /** A configured Kinesis client; by default one from the environment over HTTP/1.1. */
  kinesis?: KinesisClient;
  /** A configured DynamoDB client; by default one from the environment. */
  dynamodb?: DynamoDBClient;
  /** Largest Kinesis record to write, header and partition key included (default and maximum 1 MiB). */
  maxRecordBytes?: number;
  /**
   * Bytes per PutRecords call (default 1 MiB, a shard's write rate per second: bigger calls to one
   * shard are mostly throttled; at most 5 MiB).
   */
  maxBatchBytes?: number;
}

/** One append call waiting in a channel's lane. */
interface PendingAppend {
  records: Uint8Array[];
  resolve(first: WalPosition): void;
  reject(err: unknown): void;
}

/** Per channel: the chain that serializes appends and drops, and the batch still accepting appends. */
interface Lane {
  chain: Promise<void>;
  open?: PendingAppend[];
  openRecords: number;
}

/** A Kinesis record to put: which position and fragment it carries, and its data. */
interface OutgoingRecord {
  position: bigint;
  data: Uint8Array;
}

/** Where a committed Kinesis record is, and what it holds. */
interface NeededRecord {
  sequence: bigint;
  sequenceNumber: string;
  shard: string;
  position: bigint;
  fragment: number;
  fragments: number;
}

/** Bytes of delivered records kept for the reads that need them (a few event source batches of 6 MB). */
const MAX_DELIVERED_BYTES = 32 * 1024 * 1024;

/** The key of a delivered record. */
const deliveredKey = (r: { shard: string; sequenceNumber: string }) => `${r.shard}/${r.sequenceNumber}`;

/** Where a channel's appends go: the ExplicitHashKey pinning it, and the shard holding that key when the shards were listed. */
interface Route {
  hashKey: string;
  shard: string;
}

/** Where one Kinesis record landed. */
interface Landed {
  shard: string;
  sequenceNumber: string;
}

/** A tailing reader's place: reading `nextPosition` of `epoch` continues at `iterator` on `shard`. */
interface ReaderCursor {
  epoch: number;
  nextPosition: bigint;
  shard: string;
  iterator: string;
}

/** A Wal whose channels are Kinesis shards (see the file comment for the design). */
export class KinesisWal implements Wal {
  /** The stream carrying the channels. */
  readonly streamName: string;
  private readonly kinesis: KinesisClient;
  private readonly dynamodb: DynamoDBClient;
  private readonly ownsKinesis: boolean;
  private readonly ownsDynamodb: boolean;
  private readonly index: WalPositionIndex;
  private readonly maxRecordBytes: number;
  private readonly maxBatchBytes: number;
  private readonly lanes = new Map<string, Lane>();
  /** The last head this instance committed or read per channel (appends start from it; reads never trust it). */
  private readonly heads = new Map<string, ChannelHead>();
  private readonly cursors = new Map<string, ReaderCursor>();
  /** Records a consumer was handed and no read took yet, by `shard/sequenceNumber`, oldest first. */
  private readonly delivered = new Map<string, Uint8Array>();
  private deliveredBytes = 0;
  private shards?: Promise<Shard[]>;
  private closed = false;

  constructor(options: KinesisWalOptions) {
    if (typeof options?.streamName !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(options.streamName)) {
      throw new RangeError(`Kinesis stream name must be 1-128 letters, digits, '_', '-' or '.', got ${describe(options?.streamName)}`);
    }
    if (typeof options.indexTableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.indexTableName)) {
      throw new RangeError(`WAL index table name must be 3-255 letters, digits, '_', '-' or '.', got ${describe(options.indexTableName)}`);
    }
    const maxRecordBytes = options.maxRecordBytes ?? KINESIS_MAX_RECORD_BYTES;
    const maxBatchBytes = options.maxBatchBytes ?? KINESIS_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1024 || maxRecordBytes > KINESIS_MAX_RECORD_BYTES) {
      throw new RangeError(`maxRecordBytes must be an integer from 1024 to ${KINESIS_MAX_RECORD_BYTES}, got ${describe(maxRecordBytes)}`);
    }
    if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < maxRecordBytes || maxBatchBytes > PUT_RECORDS_MAX_BYTES) {
      throw new RangeError(`maxBatchBytes must be an integer from maxRecordBytes (${maxRecordBytes}) to ${PUT_RECORDS_MAX_BYTES}, got ${describe(maxBatchBytes)}`);
    }
    this.streamName = options.streamName;
    this.kinesis = options.kinesis ?? hookAwsClient(defaultKinesisClient());
    this.dynamodb = options.dynamodb ?? hookAwsClient(new DynamoDBClient({}));
    this.ownsKinesis = options.kinesis === undefined;
    this.ownsDynamodb = options.dynamodb === undefined;
    this.index = new WalPositionIndex(this.dynamodb, options.indexTableName);
    this.maxRecordBytes = maxRecordBytes;
    this.maxBatchBytes = maxBatchBytes;
  }

  /** Creates the stream (waiting until ACTIVE) and the index table, if missing. For tests and development. */
  static async createResources(
    options: { streamName: string; shardCount: number; indexTableName: string },
    clients: { kinesis?: KinesisClient; dynamodb?: DynamoDBClient } = {},
  ): Promise<void> {
    await Promise.all([KinesisWal.createStream(options.streamName, options.shardCount, clients.kinesis), WalPositionIndex.createTable(options.indexTableName, clients.dynamodb)]);
  }

  /** Creates a provisioned stream with `shardCount` shards if missing and waits until it is ACTIVE. */
  static async createStream(name: string, shardCount: number, client: KinesisClient = defaultKinesisClient(), timeoutMs = 120_000): Promise<void> {
    if (!Number.isSafeInteger(shardCount) || shardCount < 1) throw new RangeError(`shardCount must be a positive integer, got ${describe(shardCount)}`);
    try {
      await withRetries(`Kinesis CreateStream ${name}`, () => client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount })), {
        passThrough: (err) => awsErrorName(err) === 'ResourceInUseException',
      });
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceInUseException') throw err;
    }
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const res = await withRetries(`Kinesis DescribeStreamSummary ${name}`, () => client.send(new DescribeStreamSummaryCommand({ StreamName: name })));
      const status = res.StreamDescriptionSummary?.StreamStatus;
      if (status === 'ACTIVE') return;
      if (Date.now() > deadline) throw new StorageError(`Kinesis stream ${name} is still ${status} after ${timeoutMs} ms; retry`);
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt)));
    }
  }

  append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    try {
      this.checkOpen();
      checkChannel(channel);
      checkRecords(channel, records);
    } catch (err) {
      return Promise.reject(err);
    }
    const copies = records.map((r) => new Uint8Array(r)); // copies (a Buffer's slice() is a view): the caller may reuse its buffers once we return
    return new Promise<WalPosition>((resolve, reject) => {
      const lane = this.lane(channel);
      // Group commit: appends queued while a round runs go out together in the next round.
      if (!lane.open || lane.openRecords + copies.length > PUT_RECORDS_MAX) {
        const batch: PendingAppend[] = [];
        lane.open = batch;
        lane.openRecords = 0;
        lane.chain = lane.chain.then(() => {
          if (lane.open === batch) lane.open = undefined;
          return this.appendRound(channel, batch);
        });
      }
      lane.open.push({ records: copies, resolve, reject });
      lane.openRecords += copies.length;
    });
  }

  async read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    this.checkOpen();
    checkChannel(channel);
    checkPosition(channel, from, 'read position');
    checkLimit(channel, limit);
    const head = await this.index.head(channel);
    if (from < head.first) throw truncatedError(channel, from, head.first);
    if (from > head.tail) throw beyondTailError(channel, from, head.tail);
    if (from === head.tail) return [];
    const to = from + BigInt(limit) < head.tail ? from + BigInt(limit) : head.tail;
    const batches = await this.index.batchesCovering(channel, head.epoch, from, to);
    const needed = neededRecords(channel, batches, from, to);
    const found = await this.fetch(channel, head.epoch, needed, to);
    return assemble(channel, head.epoch, needed, found, from, to);
  }

  /**
   * Records Kinesis delivered to this process's consumer (an event source batch of `shard`): reads
   * that need them take them from here instead of the shard. The oldest go past MAX_DELIVERED_BYTES.
   */
  offerDelivered(shard: string, records: readonly { sequenceNumber: string; data: Uint8Array }[]): void {
    for (const r of records) {
      const key = deliveredKey({ shard, sequenceNumber: r.sequenceNumber });
      if (this.delivered.has(key)) continue;
      this.delivered.set(key, r.data);
      this.deliveredBytes += r.data.byteLength;
    }
    for (const [key, data] of this.delivered) {
      if (this.deliveredBytes <= MAX_DELIVERED_BYTES) break;
      this.delivered.delete(key);
      this.deliveredBytes -= data.byteLength;
    }
  }

  /** Takes an offered record out of the delivered ones, if it is there. */
  private takeDelivered(n: NeededRecord): Uint8Array | undefined {
    const key = deliveredKey(n);
    const data = this.delivered.get(key);
    if (data) {
      this.delivered.delete(key);
      this.deliveredBytes -= data.byteLength;
    }
    return data;
  }

  async tail(channel: string): Promise<WalPosition> {
    this.checkOpen();
    checkChannel(channel);
    return (await this.index.head(channel)).tail;
  }

  async truncate(channel: string, before: WalPosition): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    checkPosition(channel, before, 'truncate position');
    const head = await this.index.truncate(channel, before);
    if (before > head.tail) throw truncateBeyondTailError(channel, before, head.tail);
  }

  dropChannel(channel: string): Promise<void> {
    try {
      this.checkOpen();
      checkChannel(channel);
    } catch (err) {
      return Promise.reject(err);
    }
    const lane = this.lane(channel);
    lane.open = undefined; // appends after the drop queue behind it
    const done = lane.chain.then(async () => {
      await this.index.drop(channel);
      this.heads.delete(channel);
      this.cursors.delete(channel);
    });
    lane.chain = done.catch(() => {});
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.lanes.values()].map((l) => l.chain));
    if (this.ownsKinesis) this.kinesis.destroy();
    if (this.ownsDynamodb) this.dynamodb.destroy();
  }

  // ---- appending ----

  private lane(channel: string): Lane {
    let lane = this.lanes.get(channel);
    if (!lane) this.lanes.set(channel, (lane = { chain: Promise.resolve(), openRecords: 0 }));
    return lane;
  }

  /** Puts and commits one group of append calls; settles each call's promise, never rejects. */
  private async appendRound(channel: string, batch: PendingAppend[]): Promise<void> {
    const records = batch.flatMap((a) => a.records);
    try {
      const first = records.length === 0 ? await this.currentTail(channel) : await this.putAndCommit(channel, records);
      let next = first;
      for (const a of batch) {
        a.resolve(next);
        next += BigInt(a.records.length);
      }
    } catch (err) {
      for (const a of batch) a.reject(err);
    }
  }

  /** The tail as this instance last knew it, read when unknown (an empty append returns it). */
  private async currentTail(channel: string): Promise<bigint> {
    const head = await this.index.head(channel);
    this.heads.set(channel, head);
    return head.tail;
  }

  /** Puts `records` at the channel's tail and commits them; returns the first position. */
  private async putAndCommit(channel: string, records: Uint8Array[]): Promise<bigint> {
    const route = await this.routeOf(channel);
    for (let race = 1; ; race++) {
      let head = this.heads.get(channel);
      if (!head) {
        head = await this.index.head(channel);
        this.heads.set(channel, head);
      }
      const outgoing = this.fragment(channel, head.epoch, head.tail, records);
      const landed = await this.putAll(channel, route.hashKey, outgoing);
      // The stream was resharded since the listing: the records are fine where they landed (the index
      // names their shard), and the next append lists the shards again to spread channels over the children.
      if (landed.some((l) => l.shard !== route.shard)) this.shards = undefined;
      const batches = indexBatches(outgoing, landed);
      const newTail = head.tail + BigInt(records.length);
      if (await this.index.commit(channel, head, batches, newTail)) {
        this.heads.set(channel, { exists: true, epoch: head.epoch, tail: newTail, first: head.first });
        return head.tail;
      }
      // Another writer (or a drop) moved the head: our records are orphans; re-read and go again.
      this.heads.delete(channel);
      if (race >= MAX_COMMIT_RACES) {
        throw new StorageError(
          `append to WAL channel ${channel} lost the commit race ${race} times in a row (other writers keep appending to it); retry, or give the channel fewer concurrent writers`,
        );
      }
      await backoffDelay(race);
    }
  }

  /** Kinesis records for `records` at positions from `tail`, fragmented to fit `maxRecordBytes`. */
  private fragment(channel: string, epoch: number, tail: bigint, records: Uint8Array[]): OutgoingRecord[] {
    const room = this.maxRecordBytes - headerBytes(channel) - Buffer.byteLength(channel);
    const out: OutgoingRecord[] = [];
    records.forEach((r, i) => {
      const position = tail + BigInt(i);
      const fragments = Math.max(1, Math.ceil(r.length / room));
      if (fragments > MAX_FRAGMENTS) {
        throw new RangeError(`WAL record ${i} for channel ${channel} is ${r.length} bytes, more than ${MAX_FRAGMENTS} Kinesis records of ${room} bytes; split it`);
      }
      for (let f = 0; f < fragments; f++) {
        out.push({ position, data: encodeKinesisRecord({ channel, epoch, position, fragment: f, fragments }, r.subarray(f * room, (f + 1) * room)) });
      }
    });
    return out;
  }

  /**
   * Puts every record in order (see putInOrder) so that each position's fragments share one shard: a
   * reshard between two fragments of a position has everything from that position's first fragment
   * put again, which lands on the child. Returns each record's shard and sequence number.
   */
  private async putAll(channel: string, hashKey: string, records: OutgoingRecord[]): Promise<Landed[]> {
    const landed = await this.putInOrder(channel, hashKey, records);
    for (let reputs = 1; ; reputs++) {
      const split = straddlingPosition(records, landed);
      if (split === undefined) return landed;
      if (reputs > MAX_STRADDLE_REPUTS) {
        throw new StorageError(
          `WAL channel ${channel} position ${records[split].position}: its fragments landed on different shards of stream ${this.streamName} ${reputs} times in a row (the stream keeps resharding); retry`,
        );
      }
      landed.splice(split, landed.length - split, ...(await this.putInOrder(channel, hashKey, records.slice(split))));
    }
  }

  /**
   * Puts every record in order with PutRecords calls of at most 500 entries and maxBatchBytes. On a
   * partial failure everything from the first failed entry is put again, so the channel's records
   * land in order. Returns each record's shard and sequence number.
   */
  private async putInOrder(channel: string, hashKey: string, records: OutgoingRecord[]): Promise<Landed[]> {
    const landed: Landed[] = new Array(records.length);
    const keyBytes = Buffer.byteLength(channel);
    let next = 0;
    let failures = 0;
    while (next < records.length) {
      const entries: PutRecordsRequestEntry[] = [];
      let bytes = 0;
      for (let i = next; i < records.length && entries.length < PUT_RECORDS_MAX; i++) {
        const size = records[i].data.length + keyBytes;
        if (entries.length > 0 && bytes + size > this.maxBatchBytes) break;
        entries.push({ Data: records[i].data, PartitionKey: channel, ExplicitHashKey: hashKey });
        bytes += size;
      }
      const res = await withRetries(
        `Kinesis PutRecords of ${entries.length} records to stream ${this.streamName} for WAL channel ${channel}`,
        () => this.kinesis.send(new PutRecordsCommand({ StreamName: this.streamName, Records: entries })),
        { hint: (err) => this.hint(err) },
      );
      const results = res.Records ?? [];
      let ok = 0;
      while (ok < entries.length && results[ok] && !results[ok].ErrorCode && results[ok].SequenceNumber) {
        landed[next + ok] = { shard: results[ok].ShardId!, sequenceNumber: results[ok].SequenceNumber! };
        ok++;
      }
      next += ok;
      if (ok < entries.length) {
        // Entries after the first failure may have landed; they are put again (and become orphans).
        const failed = results[ok];
        if (++failures >= DEFAULT_BACKOFF.attempts) {
          throw new StorageError(
            `Kinesis PutRecords to stream ${this.streamName} for WAL channel ${channel} kept failing: ${failed?.ErrorCode ?? 'no result'} ${failed?.ErrorMessage ?? ''} after ${failures} attempts; retry later or add shards`.trim(),
          );
        }
        await backoffDelay(failures);
      }
    }
    return landed;
  }

  /** The ExplicitHashKey pinning `channel` to one of the open shards, and that shard. */
  private async routeOf(channel: string): Promise<Route> {
    const shards = await this.openShards();
    const m = /^(.*)-(\d+)$/.exec(channel);
    const slot = m ? (hashName(m[1]) + Number(m[2])) % shards.length : hashName(channel) % shards.length;
    return { hashKey: shards[slot].HashKeyRange!.StartingHashKey!, shard: shards[slot].ShardId! };
  }

  /** The stream's open shards ordered by hash range, listed once per instance and again after a put shows a reshard. */
  private openShards(): Promise<Shard[]> {
    this.shards ??= (async () => {
      const shards: Shard[] = [];
      let token: string | undefined;
      do {
        const res = await withRetries(
          `Kinesis ListShards of stream ${this.streamName}`,
          () => this.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName })),
          { hint: (err) => this.hint(err) },
        );
        shards.push(...(res.Shards ?? []));
        token = res.NextToken;
      } while (token);
      const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      if (open.length === 0) throw new StorageError(`Kinesis stream ${this.streamName} has no open shards`);
      return open.sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    })();
    this.shards.catch(() => (this.shards = undefined)); // a failed listing is retried by the next call
    return this.shards;
  }

  // ---- reading ----

  /**
   * Reads the needed records from their shards in order, skipping everything else (other channels,
   * orphans). Continues a cached iterator when this read picks up where the last one stopped.
   */
  private async fetch(channel: string, epoch: number, needed: NeededRecord[], to: bigint): Promise<Map<string, Uint8Array>> {
    const found = new Map<string, Uint8Array>();
    let i = 0;
    while (i < needed.length) {
      const offered = this.takeDelivered(needed[i]);
      if (offered) {
        found.set(needed[i++].sequenceNumber, offered);
        continue;
      }
      const shard = needed[i].shard;
      let end = i;
      while (end < needed.length && needed[end].shard === shard && !this.delivered.has(deliveredKey(needed[end]))) end++;
      const cursor = this.cursors.get(channel);
      let iterator =
        cursor && cursor.epoch === epoch && cursor.shard === shard && cursor.nextPosition === needed[i].position && needed[i].fragment === 0
          ? cursor.iterator
          : await this.iteratorAt(channel, needed[i].position, shard, needed[i].sequenceNumber);
      let idle = 0;
      while (i < end) {
        let res;
        try {
          res = await withRetries(
            `Kinesis GetRecords of stream ${this.streamName} shard ${shard} for WAL channel ${channel}`,
            () => this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, end - i) })),
            { passThrough: (err) => awsErrorName(err) === 'ExpiredIteratorException' },
          );
        } catch (err) {
          if (awsErrorName(err) !== 'ExpiredIteratorException') throw err;
          iterator = await this.iteratorAt(channel, needed[i].position, shard, needed[i].sequenceNumber); // iterators live 5 minutes
          continue;
        }
        for (const r of res.Records ?? []) {
          if (i >= end) break;
          const seq = BigInt(r.SequenceNumber!);
          if (seq === needed[i].sequence) found.set(needed[i++].sequenceNumber, r.Data ?? new Uint8Array(0));
          else if (seq > needed[i].sequence) {
            throw new NotFoundError(
              `channel ${channel} position ${needed[i].position} (Kinesis record ${needed[i].sequenceNumber} is gone from shard ${shard}: past the stream's retention; read from a later checkpoint)`,
              'WAL record',
            );
          }
        }
        if (i < end) {
          if (!res.NextShardIterator) {
            // A shard closed by a reshard ends; the index only names records put before it closed.
            throw new CorruptDataError(
              `closed shard ${shard} of stream ${this.streamName} ends without Kinesis record ${needed[i].sequenceNumber}, which the position index names for WAL channel ${channel} position ${needed[i].position}; the index table was edited or damaged`,
              { key: `${channel}@${needed[i].position}`, what: 'WAL position index item', expected: needed[i].sequenceNumber },
            );
          }
          iterator = res.NextShardIterator;
          // Kinesis may answer empty pages before the data; back off so tailing stays under 5 reads/s/shard.
          if ((res.Records ?? []).length === 0) {
            if (++idle > 200)
              throw new StorageError(
                `Kinesis shard ${shard} of stream ${this.streamName} did not return record ${needed[i].sequenceNumber} of WAL channel ${channel} after ${idle} reads; retry`,
              );
            await backoffDelay(Math.min(idle, 6));
          } else idle = 0;
        } else if (res.NextShardIterator) {
          this.cursors.set(channel, { epoch, nextPosition: to, shard, iterator: res.NextShardIterator });
        }
      }
    }
    return found;
  }

  /**
   * A shard iterator at a sequence number. A shard the stream no longer has, in a stream that still
   * exists, is a parent closed by a reshard that aged past the retention: its records are gone.
   */
  private async iteratorAt(channel: string, position: bigint, shard: string, sequenceNumber: string): Promise<string> {
    let res;
    try {
      res = await withRetries(
        `Kinesis GetShardIterator of stream ${this.streamName} shard ${shard} at ${sequenceNumber}`,
        () =>
          this.kinesis.send(
            new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shard, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: sequenceNumber }),
          ),
        { passThrough: (err) => awsErrorName(err) === 'ResourceNotFoundException' },
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
      if (!(await this.streamExists())) throw storageError(`Kinesis GetShardIterator of stream ${this.streamName} shard ${shard}`, err, this.hint(err));
      throw new NotFoundError(
        `channel ${channel} position ${position} (shard ${shard} of stream ${this.streamName} is gone: closed by a reshard and past the stream's retention; read from a later checkpoint)`,
        'WAL record',
      );
    }
    return res.ShardIterator!;
  }

  /** Whether the stream exists (a missing shard of an existing stream aged out; of a missing stream, the deployment is wrong). */
  private async streamExists(): Promise<boolean> {
    try {
      await withRetries(`Kinesis DescribeStreamSummary of stream ${this.streamName}`, () => this.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.streamName })), {
        passThrough: (err) => awsErrorName(err) === 'ResourceNotFoundException',
      });
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return false;
      throw err;
    }
  }

  private hint(err: unknown): string {
    return awsErrorName(err) === 'ResourceNotFoundException'
      ? `Kinesis stream ${this.streamName} does not exist: create it with KinesisWal.createResources or deploy the stack`
      : '';
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(`KinesisWal on stream ${this.streamName} is closed; create a new one`);
  }
}

/** The default Kinesis client: HTTP/1.1 keep-alive (the SDK's HTTP/2 default is only needed for SubscribeToShard). */
export function defaultKinesisClient(): KinesisClient {
  return new KinesisClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }) });
}

/** A stable 32-bit hash of a channel name. */
function hashName(name: string): number {
  return murmur3_32(new TextEncoder().encode(name));
}

/**
 * Index items for the records put: one per POSITIONS_PER_INDEX_ITEM positions, and a new one where a
 * reshard moved the records to another shard (a position's fragments stay together, on one shard).
 */
function indexBatches(outgoing: OutgoingRecord[], landed: Landed[]): IndexedBatch[] {
  const batches: IndexedBatch[] = [];
  let current: (IndexedBatch & { fragments: number[] }) | undefined;
  let last: bigint | undefined;
  outgoing.forEach((r, i) => {
    if (r.position !== last) {
      if (!current || current.count === POSITIONS_PER_INDEX_ITEM || current.shard !== landed[i].shard) {
        if (current) batches.push(finish(current));
        current = { first: r.position, count: 0, shard: landed[i].shard, sequenceNumbers: [], fragments: [] };
      }
      current.count++;
      current.fragments.push(0);
      last = r.position;
    }
    current!.fragments[current!.count - 1]++;
    current!.sequenceNumbers.push(landed[i].sequenceNumber);
  });
  if (current) batches.push(finish(current));
  return batches;
}

/** The index of the first record of the first position whose fragments landed on different shards, if any. */
function straddlingPosition(records: OutgoingRecord[], landed: Landed[]): number | undefined {
  let start = 0;
  for (let i = 1; i < records.length; i++) {
    if (records[i].position !== records[start].position) start = i;
    else if (landed[i].shard !== landed[start].shard) return start;
  }
  return undefined;
}

/** Drops the per-position fragment counts when every position is one record. */
function finish(batch: IndexedBatch & { fragments: number[] }): IndexedBatch {
  return batch.fragments.some((f) => f > 1) ? batch : { ...batch, fragments: undefined };
}

/** The Kinesis records holding positions [from, to), in order, from the index items covering them. */
function neededRecords(channel: string, batches: IndexedBatch[], from: bigint, to: bigint): NeededRecord[] {
  const out: NeededRecord[] = [];
  for (const b of batches) {
    let k = 0;
    for (let j = 0; j < b.count; j++) {
      const position = b.first + BigInt(j);
      const fragments = b.fragments?.[j] ?? 1;
      if (position >= from && position < to) {
        for (let f = 0; f < fragments; f++) {
          const sequenceNumber = b.sequenceNumbers[k + f];
          out.push({ sequence: BigInt(sequenceNumber), sequenceNumber, shard: b.shard, position, fragment: f, fragments });
        }
      }
      k += fragments;
    }
  }
  const expected = Number(to - from);
  const positions = new Set(out.map((n) => n.position)).size;
  if (positions !== expected) {
    throw new CorruptDataError(`the position index of WAL channel ${channel} covers ${positions} of positions ${from}..${to - 1n}; the index table was edited or damaged`);
  }
  return out;
}

/** WalRecords from the fetched Kinesis records, checking each header against the index. */
function assemble(channel: string, epoch: number, needed: NeededRecord[], found: Map<string, Uint8Array>, from: bigint, to: bigint): WalRecord[] {
  const out: WalRecord[] = [];
  let parts: Uint8Array[] = [];
  for (const n of needed) {
    const where = `WAL channel ${channel} position ${n.position} (Kinesis record ${n.sequenceNumber})`;
    const { header, payload } = decodeKinesisRecord(found.get(n.sequenceNumber)!, where);
    if (header.channel !== channel || header.epoch !== epoch || header.position !== n.position || header.fragment !== n.fragment || header.fragments !== n.fragments) {
      throw new CorruptDataError(
        `${where}: the record says channel ${header.channel} epoch ${header.epoch} position ${header.position} fragment ${header.fragment}/${header.fragments}, the index says epoch ${epoch} fragment ${n.fragment}/${n.fragments}`,
      );
    }
    parts.push(payload);
    if (n.fragment === n.fragments - 1) {
      out.push({ position: n.position, data: parts.length === 1 ? parts[0] : Buffer.concat(parts) });
      parts = [];
    }
  }
  if (out.length !== Number(to - from)) throw new CorruptDataError(`WAL channel ${channel}: assembled ${out.length} records for positions ${from}..${to - 1n}`);
  return out;
}
