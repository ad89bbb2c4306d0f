/**
 * The DynamoDB side of KinesisWal: per channel a head item (epoch, tail, first readable position) and
 * index items mapping WAL positions to the Kinesis sequence numbers that hold them.
 *
 * Kinesis sequence numbers are not contiguous, and a record put to Kinesis is not yet part of the
 * WAL: an append becomes visible only when one transaction moves the head's tail from T to T + n
 * (conditional on the tail still being T and the epoch unchanged) and writes the index items of
 * positions T..T+n-1. That makes the index the source of truth: `tail()` is one consistent read of
 * the head, and records in the shard that no index item names (a writer that lost the race, a crash
 * before the commit, a partial PutRecords retry) are orphans every reader skips.
 *
 * Table: partition key `p` (S), sort key `s` (N). Head: p = `h#<channel>`, s = 0, attributes e (epoch),
 * t (tail), f (first readable). Index item: p = `b#<channel>#<epoch>`, s = first position, attributes
 * n (positions), sh (shard id), q (sequence numbers of every Kinesis record, comma-separated), fr
 * (fragments per position, comma-separated, only when some record was split). An item's records are
 * all on its shard: an append that a reshard moved to a child shard midway gets an item per shard.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { StorageError } from '../../engine/errors.ts';
import { awsErrorName, backoffDelay, DEFAULT_BACKOFF, isRetryable, storageError, withRetries } from './aws-errors.ts';
import { chunks } from './map-limit.ts';

/** A channel's head as stored. */
export interface ChannelHead {
  /** Whether the head item exists (a never-used channel has none). */
  exists: boolean;
  /** Incremented by dropChannel, so index items of a dropped channel are never read again. */
  epoch: number;
  /** The next position to append. */
  tail: bigint;
  /** The first readable position (truncate moves it). */
  first: bigint;
}

/** Positions first..first+count-1 and where their Kinesis records are. */
export interface IndexedBatch {
  first: bigint;
  count: number;
  /** The shard holding every record of these positions (a reshard midway through an append starts a new item). */
  shard: string;
  /** Sequence number of every Kinesis record of these positions, in order (fragments included). */
  sequenceNumbers: string[];
  /** Kinesis records per position, when some position was split; undefined means one each. */
  fragments?: number[];
}

/** A head no write has created yet. */
const EMPTY_HEAD: ChannelHead = { exists: false, epoch: 0, tail: 0n, first: 0n };

/** Positions and sequence numbers of one channel, in one DynamoDB table. */
export class WalPositionIndex {
  constructor(
    private readonly client: DynamoDBClient,
    /** The table holding heads and index items. */
    readonly tableName: string,
  ) {}

  /** Creates the index table (on-demand) if missing and waits until it is ACTIVE (tests, development). */
  static async createTable(tableName: string, client: DynamoDBClient = new DynamoDBClient({}), timeoutMs = 60_000): Promise<void> {
    try {
      await withRetries(
        `DynamoDB CreateTable ${tableName}`,
        () =>
          client.send(
            new CreateTableCommand({
              TableName: tableName,
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [
                { AttributeName: 'p', AttributeType: 'S' },
                { AttributeName: 's', AttributeType: 'N' },
              ],
              KeySchema: [
                { AttributeName: 'p', KeyType: 'HASH' },
                { AttributeName: 's', KeyType: 'RANGE' },
              ],
            }),
          ),
        { passThrough: (err) => awsErrorName(err) === 'ResourceInUseException' },
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceInUseException') throw err;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await withRetries(`DynamoDB DescribeTable ${tableName}`, () => client.send(new DescribeTableCommand({ TableName: tableName })));
      if (res.Table?.TableStatus === 'ACTIVE') return;
      if (Date.now() > deadline) throw new StorageError(`DynamoDB table ${tableName} is still ${res.Table?.TableStatus} after ${timeoutMs} ms; retry`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The channel's head, read consistently (so the tail is exact). */
  async head(channel: string): Promise<ChannelHead> {
    const res = await this.retry(`GetItem of the head of channel ${channel}`, () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: headKey(channel), ConsistentRead: true })),
    );
    const item = res.Item;
    if (!item) return EMPTY_HEAD;
    return { exists: true, epoch: Number(item.e.N), tail: BigInt(item.t.N!), first: BigInt(item.f.N!) };
  }

  /**
   * Publishes `batches` (positions expected.tail.. contiguous) and moves the tail past them, in one
   * transaction that holds only if the head is still `expected`. Returns false when another writer
   * (or a drop) got there first: the caller re-reads the head and tries again.
   */
  async commit(channel: string, expected: ChannelHead, batches: IndexedBatch[], newTail: bigint): Promise<boolean> {
    if (batches.length + 1 > 100) {
      throw new RangeError(
        `one WAL append to channel ${channel} needs ${batches.length} index items, more than one DynamoDB transaction holds (99); append fewer records per call`,
      );
    }
    const head: TransactWriteItem = {
      Update: {
        TableName: this.tableName,
        Key: headKey(channel),
        UpdateExpression: 'SET e = :e, t = :nt, f = if_not_exists(f, :zero)',
        ConditionExpression: expected.exists ? 'e = :e AND t = :t' : 'attribute_not_exists(p)',
        ExpressionAttributeValues: {
          ':e': { N: String(expected.epoch) },
          ':nt': { N: newTail.toString() },
          ':zero': { N: '0' },
          ...(expected.exists ? { ':t': { N: expected.tail.toString() } } : {}),
        },
      },
    };
    const items: TransactWriteItem[] = batches.map((b) => ({ Put: { TableName: this.tableName, Item: batchItem(channel, expected.epoch, b) } }));
    const token = randomUUID(); // retries of this commit are idempotent for 10 minutes
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: [head, ...items], ClientRequestToken: token }));
        return true;
      } catch (err) {
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
        const transient =
          isRetryable(err) || awsErrorName(err) === 'TransactionInProgressException' || reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
        if (!transient || attempt >= DEFAULT_BACKOFF.attempts) {
          throw storageError(
            `DynamoDB TransactWriteItems committing positions ${expected.tail}..${newTail - 1n} of WAL channel ${channel} in table ${this.tableName}`,
            err,
            this.hint(err),
          );
        }
        await backoffDelay(attempt);
      }
    }
  }

  /** Index items covering positions [from, to) of the channel's epoch, ascending. */
  async batchesCovering(channel: string, epoch: number, from: bigint, to: bigint): Promise<IndexedBatch[]> {
    const out: IndexedBatch[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    // Newest first from the last wanted position down to the item that holds `from`: exactly the items needed.
    for (;;) {
      const res = await this.retry(`Query of WAL channel ${channel} positions ${from}..${to - 1n}`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'p = :p AND s <= :last',
            ExpressionAttributeValues: { ':p': { S: batchPartition(channel, epoch) }, ':last': { N: (to - 1n).toString() } },
            ScanIndexForward: false,
            ConsistentRead: true,
            Limit: 64,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of res.Items ?? []) {
        const batch = parseBatch(item);
        out.push(batch);
        if (batch.first <= from) return out.reverse();
      }
      startKey = res.LastEvaluatedKey;
      if (!startKey) return out.reverse();
    }
  }

  /**
   * Moves the first readable position up to `before` (never down). Returns the head as it is after
   * the call, so the caller can report a truncation beyond the tail.
   */
  async truncate(channel: string, before: bigint): Promise<ChannelHead> {
    try {
      await this.retry(
        `UpdateItem truncating WAL channel ${channel}`,
        () =>
          this.client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: headKey(channel),
              UpdateExpression: 'SET f = :b',
              ConditionExpression: 'attribute_exists(p) AND t >= :b AND f < :b',
              ExpressionAttributeValues: { ':b': { N: before.toString() } },
            }),
          ),
        (err) => awsErrorName(err) === 'ConditionalCheckFailedException',
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
    }
    const head = await this.head(channel);
    if (head.exists && head.first >= before) await this.deleteBatchesBelow(channel, head.epoch, head.first);
    return head;
  }

  /** Starts a new epoch (tail and first back to 0) and deletes the old epoch's index items. */
  async drop(channel: string): Promise<void> {
    const before = await this.head(channel);
    if (!before.exists) return;
    await this.retry(`UpdateItem dropping WAL channel ${channel}`, () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: headKey(channel),
          UpdateExpression: 'SET e = e + :one, t = :zero, f = :zero',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':zero': { N: '0' } },
        }),
      ),
    );
    await this.deleteBatchesBelow(channel, before.epoch, undefined);
  }

  /** Deletes index items wholly below `before` (all of them when undefined): their records are unreadable now. */
  private async deleteBatchesBelow(channel: string, epoch: number, before: bigint | undefined): Promise<void> {
    let startKey: Record<string, AttributeValue> | undefined;
    const doomed: Record<string, AttributeValue>[] = [];
    do {
      const res = await this.retry(`Query of WAL channel ${channel} index items to delete`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: before === undefined ? 'p = :p' : 'p = :p AND s < :b',
            ExpressionAttributeValues: { ':p': { S: batchPartition(channel, epoch) }, ...(before === undefined ? {} : { ':b': { N: before.toString() } }) },
            ProjectionExpression: 'p, s, n',
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of res.Items ?? []) {
        if (before === undefined || BigInt(item.s.N!) + BigInt(item.n.N!) <= before) doomed.push({ p: item.p, s: item.s });
      }
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    for (const chunk of chunks(doomed, 25)) {
      let pending = chunk.map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const res = await this.retry(`BatchWriteItem deleting WAL channel ${channel} index items`, () =>
          this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } })),
        );
        pending = (res.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        if (pending.length > 0) {
          if (attempt >= DEFAULT_BACKOFF.attempts) throw new StorageError(`could not delete ${pending.length} index items of WAL channel ${channel} (throughput exceeded); retry`);
          await backoffDelay(attempt);
        }
      }
    }
  }

  private retry<T>(what: string, call: () => Promise<T>, passThrough?: (err: unknown) => boolean): Promise<T> {
    return withRetries(`DynamoDB ${what} (WAL index table ${this.tableName})`, call, { passThrough, hint: (err) => this.hint(err) });
  }

  private hint(err: unknown): string {
    return awsErrorName(err) === 'ResourceNotFoundException'
      ? `the WAL index table ${this.tableName} does not exist: create it with KinesisWal.createResources or deploy the stack`
      : '';
  }
}

/** Key of a channel's head item. */
function headKey(channel: string): Record<string, AttributeValue> {
  return { p: { S: `h#${channel}` }, s: { N: '0' } };
}

/** Partition of a channel epoch's index items. */
function batchPartition(channel: string, epoch: number): string {
  return `b#${channel}#${epoch}`;
}

/** The stored form of an index item. */
function batchItem(channel: string, epoch: number, b: IndexedBatch): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    p: { S: batchPartition(channel, epoch) },
    s: { N: b.first.toString() },
    n: { N: String(b.count) },
    sh: { S: b.shard },
    q: { S: b.sequenceNumbers.join(',') },
  };
  if (b.fragments) item.fr = { S: b.fragments.join(',') };
  return item;
}

/** An index item read back. */
function parseBatch(item: Record<string, AttributeValue>): IndexedBatch {
  return {
    first: BigInt(item.s.N!),
    count: Number(item.n.N),
    shard: item.sh.S!,
    sequenceNumbers: item.q.S!.split(','),
    fragments: item.fr?.S ? item.fr.S.split(',').map(Number) : undefined,
  };
}
