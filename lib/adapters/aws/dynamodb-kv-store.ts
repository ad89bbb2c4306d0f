/**
 * KvStore on one DynamoDB table. Key layout and its tradeoffs: dynamodb-kv-layout.ts. Every read is
 * strongly consistent (the PK index relies on reading its own writes). Batches follow DynamoDB's
 * limits (BatchGetItem 100 keys, BatchWriteItem 25 requests, TransactWriteItems 100 items) and retry
 * unprocessed keys and throttling with backoff; other failures become StorageError.
 */
import {
  BatchExecuteStatementCommand,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type QueryCommandInput,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { StorageError } from '../../engine/errors.ts';
import type { KvEntry, KvRange, KvStore, KvWrite } from '../../engine/ports/kv-store.ts';
import { checkBytes, checkKvKey, checkVersion, compareUtf8, describe, utf8Length } from '../key-rules.ts';
import { checkKvPrefix, checkKvRange, checkKvWrites, rangeBounds } from '../kv-rules.ts';
import { hookAwsClient } from './client-hook.ts';
import { awsErrorName, backoffDelay, DEFAULT_BACKOFF, isRetryable, storageError, withRetries } from './aws-errors.ts';
import {
  enclosingPartitions,
  DEFAULT_PARTITION_DEPTH,
  DEFAULT_VERSIONED_BUCKETS,
  partitionOf,
  plainPartitionKey,
  prefixPinsPartition,
  prefixSuccessor,
  REGISTRY_PARTITION,
  usableAsKeyBound,
  versionedBucketKey,
  versionedPartitionKey,
} from './dynamodb-kv-layout.ts';
import { chunks, mapLimit } from './map-limit.ts';

/** BatchGetItem takes at most this many keys. */
const BATCH_GET_MAX = 100;
/** BatchWriteItem takes at most this many requests. */
const BATCH_WRITE_MAX = 25;
/** TransactWriteItems takes at most this many items. */
const TRANSACT_MAX = 100;
/** BatchExecuteStatement takes at most this many statements. */
const BATCH_STATEMENT_MAX = 25;
/** Per-statement errors of BatchExecuteStatement worth retrying. */
const TRANSIENT_STATEMENT_ERRORS = new Set(['ProvisionedThroughputExceeded', 'ThrottlingError', 'RequestLimitExceeded', 'TransactionConflict', 'InternalServerError']);
/** DynamoDB's item size limit (names and values of all attributes). */
const MAX_ITEM_BYTES = 400 * 1024;
/** Bytes an item needs besides its key (twice: partition and sort key) and value: names, `ver`, prefixes. */
const ITEM_OVERHEAD_BYTES = 64;

/** Attribute names, always passed through ExpressionAttributeNames so none can clash with a reserved word. */
const NAMES = { '#p': 'p', '#s': 's', '#v': 'v', '#ver': 'ver' };

/** Options of a DynamoDbKvStore. */
export interface DynamoDbKvStoreOptions {
  tableName: string;
  /** A configured client; by default one from the environment (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials). */
  client?: DynamoDBClient;
  /** Segments of a plain key that make its partition (default 2). Fixed for the life of a table. */
  partitionDepth?: number;
  /** Hash buckets for versioned keys (default 32). Fixed for the life of a table: changing it loses entries. */
  versionedBuckets?: number;
  /** Most requests one batch call keeps in flight (default 32). */
  concurrency?: number;
}

/** A planned putIfNewer write: the winning entry of one key in a batch. */
interface VersionedWrite {
  key: string;
  /** Whether the key held a (lower) version when read: UPDATE then, else INSERT. */
  existing: boolean;
  value: Uint8Array;
  version: bigint;
  /** Indexes of the batch entries that store if this write lands. */
  winners: number[];
}

/** A DynamoDB primary key. */
type ItemKey = { p: AttributeValue; s: AttributeValue };
/** An item as the SDK returns it. */
type Item = Record<string, AttributeValue>;

/** A KvStore over one DynamoDB table (partition key `p` S, sort key `s` S). */
export class DynamoDbKvStore implements KvStore {
  /** The table holding the entries. */
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly depth: number;
  private readonly buckets: number;
  private readonly concurrency: number;
  /** Plain partitions this instance knows are in the registry (registering is idempotent, so a cache suffices). */
  private readonly registered = new Set<string>();
  private closed = false;

  constructor(options: DynamoDbKvStoreOptions) {
    checkTableName(options?.tableName);
    const depth = options.partitionDepth ?? DEFAULT_PARTITION_DEPTH;
    const buckets = options.versionedBuckets ?? DEFAULT_VERSIONED_BUCKETS;
    const concurrency = options.concurrency ?? 32;
    for (const [name, v] of [
      ['partitionDepth', depth],
      ['versionedBuckets', buckets],
      ['concurrency', concurrency],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`DynamoDbKvStore ${name} must be a positive integer, got ${describe(v)}`);
    }
    this.tableName = options.tableName;
    this.client = options.client ?? hookAwsClient(new DynamoDBClient({}));
    this.ownsClient = options.client === undefined;
    this.depth = depth;
    this.buckets = buckets;
    this.concurrency = concurrency;
  }

  /**
   * Creates the table (on-demand billing) if it does not exist and waits until it is ACTIVE. For tests
   * and development; deployments create it with the CDK stack.
   */
  static async createTable(tableName: string, client: DynamoDBClient = new DynamoDBClient({}), timeoutMs = 60_000): Promise<void> {
    checkTableName(tableName);
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
                { AttributeName: 's', AttributeType: 'S' },
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
      if (awsErrorName(err) !== 'ResourceInUseException') throw err; // already there: just wait for ACTIVE
    }
    await waitForTableStatus(client, tableName, 'ACTIVE', timeoutMs);
  }

  /** Deletes the table (for tests); a missing table is fine. */
  static async deleteTable(tableName: string, client: DynamoDBClient = new DynamoDBClient({})): Promise<void> {
    try {
      await withRetries(`DynamoDB DeleteTable ${tableName}`, () => client.send(new DeleteTableCommand({ TableName: tableName })), {
        passThrough: (err) => awsErrorName(err) === 'ResourceNotFoundException',
      });
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkKvKey(key);
    const item = await this.getItem('GetItem', this.plainKey(key), '#v');
    return item && valueOf(item);
  }

  async batchGet(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    this.checkOpen();
    checkKeys(keys);
    const found = await this.batchGetItems(
      keys.map((k) => this.plainKey(k)),
      '#s, #v',
    );
    return keys.map((k) => {
      const item = found.get(k);
      return item && valueOf(item);
    });
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.checkOpen();
    checkKvKey(key);
    checkValue(key, value);
    const bytes = new Uint8Array(value); // the SDK reads it after our first await; the caller may reuse the buffer by then
    await this.register([key]);
    await this.retry(this.op('PutItem', key), () => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: { ...this.plainKey(key), v: { B: bytes } } })));
  }

  async batchPut(entries: KvEntry[]): Promise<void> {
    this.checkOpen();
    if (!Array.isArray(entries)) throw new TypeError(`batchPut takes an array of {key, value}, got ${describe(entries)}`);
    for (const e of entries) {
      checkKvKey(e?.key);
      checkValue(e.key, e.value);
    }
    // One BatchWriteItem may not name a key twice; the last write of a key is the one that counts.
    const last = new Map<string, Uint8Array>();
    for (const e of entries) last.set(e.key, new Uint8Array(e.value)); // copied now: the caller may reuse buffers
    await this.register([...last.keys()]);
    await this.batchWrite([...last].map(([key, value]) => ({ PutRequest: { Item: { ...this.plainKey(key), v: { B: value } } } })));
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    checkKvKey(key);
    await this.batchWrite(this.deleteRequests(key));
  }

  async batchDelete(keys: string[]): Promise<void> {
    this.checkOpen();
    checkKeys(keys);
    await this.batchWrite([...new Set(keys)].flatMap((k) => this.deleteRequests(k)));
  }

  async deleteRange(range: { start: string; end: string }): Promise<number> {
    this.checkOpen();
    if (range === null || typeof range !== 'object') throw new TypeError(`deleteRange takes {start, end}, got ${describe(range)}`);
    checkKvKey(range.start);
    checkKvKey(range.end);
    return this.deleteMatching({ start: range.start, end: range.end });
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.checkOpen();
    checkKvPrefix(prefix);
    return this.deleteMatching({ prefix });
  }

  async *scan(range: KvRange): AsyncIterable<KvEntry> {
    this.checkOpen();
    checkKvRange(range);
    const limit = range.limit;
    if (limit === 0) return;
    let yielded = 0;
    for await (const item of this.plainItems(range, '#s, #v', limit)) {
      yield { key: item.s.S!, value: valueOf(item) };
      if (++yielded === limit) return;
    }
  }

  async putIfNewer(key: string, value: Uint8Array, version: bigint): Promise<boolean> {
    this.checkOpen();
    checkKvKey(key);
    checkValue(key, value);
    checkVersion(version, key);
    return this.conditionalPut(key, new Uint8Array(value), version);
  }

  async getVersioned(key: string): Promise<{ value: Uint8Array; version: bigint } | undefined> {
    this.checkOpen();
    checkKvKey(key);
    const item = await this.getItem('GetItem (versioned)', this.versionedKey(key), '#v, #ver');
    return item && versionedOf(item);
  }

  async batchGetVersioned(keys: string[]): Promise<({ value: Uint8Array; version: bigint } | undefined)[]> {
    this.checkOpen();
    checkKeys(keys);
    const found = await this.batchGetItems(
      keys.map((k) => this.versionedKey(k)),
      '#s, #v, #ver',
    );
    return keys.map((k) => {
      const item = found.get(k);
      return item && versionedOf(item);
    });
  }

  async batchPutIfNewer(entries: { key: string; value: Uint8Array; version: bigint }[]): Promise<boolean[]> {
    this.checkOpen();
    if (!Array.isArray(entries)) throw new TypeError(`batchPutIfNewer takes an array of {key, value, version}, got ${describe(entries)}`);
    for (const e of entries) {
      checkKvKey(e?.key);
      checkValue(e.key, e.value);
      checkVersion(e.version, e.key);
    }
    const values = entries.map((e) => new Uint8Array(e.value)); // copied now: the caller may reuse buffers
    const groups = new Map<string, number[]>();
    entries.forEach((e, i) => {
      const g = groups.get(e.key);
      if (g) g.push(i);
      else groups.set(e.key, [i]);
    });
    const stored = new Array<boolean>(entries.length).fill(false);
    if (entries.length === 0) return stored;
    // 1. Read the current versions (100 keys a call) and decide each entry as the same calls in a row
    //    would; entries that cannot win cost no write (the common case when a batch is replayed).
    const current = await this.batchGetItems(
      [...groups.keys()].map((k) => this.versionedKey(k)),
      '#s, #ver',
    );
    const plans: VersionedWrite[] = [];
    for (const [key, indexes] of groups) {
      const stored0 = current.get(key)?.ver?.N;
      let cur = stored0 === undefined ? undefined : BigInt(stored0);
      let plan: VersionedWrite | undefined;
      for (const i of indexes) {
        if (cur !== undefined && entries[i].version <= cur) continue;
        plan ??= { key, existing: stored0 !== undefined, value: values[i], version: entries[i].version, winners: [] };
        plan.value = values[i];
        plan.version = entries[i].version;
        plan.winners.push(i);
        cur = entries[i].version;
      }
      if (plan) plans.push(plan);
    }
    // 2. Write the winners 25 to a BatchExecuteStatement call, each statement still conditional
    //    (INSERT fails if the key appeared, UPDATE if its version moved): same capacity as single
    //    conditional puts, 25× fewer requests. A key that lost a race is redone one conditional put
    //    at a time, which decides it exactly.
    const raced = await this.executeVersionedWrites(plans);
    for (const plan of plans) if (!raced.has(plan)) for (const i of plan.winners) stored[i] = true;
    await mapLimit([...raced], this.concurrency, async (plan) => {
      for (const i of groups.get(plan.key)!) stored[i] = await this.conditionalPut(plan.key, values[i], entries[i].version);
    });
    return stored;
  }

  async write(ops: KvWrite[]): Promise<void> {
    this.checkOpen();
    checkKvWrites(ops); // everything is validated before anything is sent: all-or-nothing
    if (ops.length === 0) return;
    for (const op of ops) if (op.type === 'put') checkValue(op.key, op.value);
    // Items are built (values copied) before the first await: the caller may reuse buffers after that.
    const items: TransactWriteItem[] = ops.map((op) =>
      op.type === 'put'
        ? { Put: { TableName: this.tableName, Item: { ...this.plainKey(op.key), v: { B: new Uint8Array(op.value) } } } }
        : { Delete: { TableName: this.tableName, Key: this.plainKey(op.key) } },
    );
    // A delete also removes the key's versioned entry. Inside the transaction while it fits in
    // TransactWriteItems' 100 items; beyond that those removals follow the commit (see the report).
    const versionedDeletes = ops.filter((o) => o.type === 'delete').map((o) => ({ Delete: { TableName: this.tableName, Key: this.versionedKey(o.key) } }));
    const inline = versionedDeletes.length <= TRANSACT_MAX - items.length;
    await this.register(ops.filter((o) => o.type === 'put').map((o) => o.key));
    await this.transact(inline ? [...items, ...versionedDeletes] : items, ops[0].key);
    if (!inline) await this.batchWrite(versionedDeletes.map((d) => ({ DeleteRequest: { Key: d.Delete.Key } })));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  // ---- internals ----

  private plainKey(key: string): ItemKey {
    return { p: { S: plainPartitionKey(partitionOf(key, this.depth)) }, s: { S: key } };
  }

  private versionedKey(key: string): ItemKey {
    return { p: { S: versionedPartitionKey(key, this.buckets) }, s: { S: key } };
  }

  /** Delete requests for both namespaces of `key`. */
  private deleteRequests(key: string): WriteRequest[] {
    return [{ DeleteRequest: { Key: this.plainKey(key) } }, { DeleteRequest: { Key: this.versionedKey(key) } }];
  }

  /** "DynamoDB <call> on table T for key K", the operation part of error messages. */
  private op(call: string, key: string): string {
    return `DynamoDB ${call} on table ${this.tableName} for key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}`;
  }

  /** Retries with the adapter's hint for a missing table. */
  private retry<T>(operation: string, call: () => Promise<T>, passThrough?: (err: unknown) => boolean): Promise<T> {
    return withRetries(operation, call, { passThrough, hint: (err) => this.hint(err) });
  }

  /** What to do about a failure, when we know. */
  private hint(err: unknown): string {
    if (awsErrorName(err) === 'ResourceNotFoundException') {
      return `table ${this.tableName} does not exist: create it with DynamoDbKvStore.createTable(${JSON.stringify(this.tableName)}) or deploy the stack`;
    }
    return '';
  }

  private async getItem(call: string, key: ItemKey, projection: string): Promise<Item | undefined> {
    const res = await this.retry(this.op(call, key.s.S!), () =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: projection, ExpressionAttributeNames: namesIn(projection) }),
      ),
    );
    return res.Item;
  }

  /** Items for `keys` (duplicates allowed), by KV key; BatchGetItem in chunks of 100, unprocessed keys retried. */
  private async batchGetItems(keys: ItemKey[], projection: string): Promise<Map<string, Item>> {
    const unique = new Map<string, ItemKey>();
    for (const k of keys) unique.set(k.s.S!, k);
    const found = new Map<string, Item>();
    await mapLimit(chunks([...unique.values()], BATCH_GET_MAX), this.concurrency, async (chunk) => {
      let pending: ItemKey[] = chunk;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const request = { [this.tableName]: { Keys: pending, ConsistentRead: true, ProjectionExpression: projection, ExpressionAttributeNames: namesIn(projection) } };
        const res = await this.retry(this.op('BatchGetItem', `${pending[0].s.S} (+${pending.length - 1} more)`), () =>
          this.client.send(new BatchGetItemCommand({ RequestItems: request })),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) found.set(item.s.S!, item);
        pending = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as ItemKey[];
        if (pending.length > 0) await this.backoffOrFail(attempt, 'BatchGetItem', `${pending.length} unprocessed keys`);
      }
    });
    return found;
  }

  /** Applies write requests with BatchWriteItem in chunks of 25, retrying unprocessed items with backoff. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    await mapLimit(chunks(requests, BATCH_WRITE_MAX), this.concurrency, async (chunk) => {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const first = pending[0].PutRequest?.Item?.s?.S ?? pending[0].DeleteRequest?.Key?.s?.S ?? '?';
        const res = await this.retry(this.op('BatchWriteItem', `${first} (+${pending.length - 1} more)`), () =>
          this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } })),
        );
        pending = res.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length > 0) await this.backoffOrFail(attempt, 'BatchWriteItem', `${pending.length} unprocessed items`);
      }
    });
  }

  /** Waits before retrying unprocessed work, or gives up with a StorageError after the last attempt. */
  private async backoffOrFail(attempt: number, call: string, what: string): Promise<void> {
    if (attempt >= DEFAULT_BACKOFF.attempts) {
      throw new StorageError(
        `DynamoDB ${call} on table ${this.tableName} still had ${what} after ${attempt} attempts (throughput exceeded); retry later or raise the table's capacity`,
      );
    }
    await backoffDelay(attempt);
  }

  /** TransactWriteItems with one idempotency token across retries; conflicts and throttling are retried. */
  private async transact(items: TransactWriteItem[], firstKey: string): Promise<void> {
    const token = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: token }));
        return;
      } catch (err) {
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        const transient =
          isRetryable(err) ||
          awsErrorName(err) === 'TransactionInProgressException' ||
          (awsErrorName(err) === 'TransactionCanceledException' &&
            reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded'));
        if (!transient || attempt >= DEFAULT_BACKOFF.attempts) {
          const codes = reasons.length ? ` (reasons: ${reasons.map((r) => r.Code ?? 'None').join(', ')})` : '';
          throw storageError(`${this.op('TransactWriteItems', firstKey)} with ${items.length} items${codes}`, err, this.hint(err));
        }
        await backoffDelay(attempt);
      }
    }
  }

  /** Runs planned versioned writes as PartiQL statements, 25 a call; returns the plans that lost a race. */
  private async executeVersionedWrites(plans: VersionedWrite[]): Promise<Set<VersionedWrite>> {
    const raced = new Set<VersionedWrite>();
    const table = `"${this.tableName}"`; // table names cannot contain quotes (checkTableName)
    const statementFor = (plan: VersionedWrite) => {
      const key = this.versionedKey(plan.key);
      const ver = { N: plan.version.toString() };
      return plan.existing
        ? { Statement: `UPDATE ${table} SET v = ? SET ver = ? WHERE p = ? AND s = ? AND ver < ?`, Parameters: [{ B: plan.value }, ver, key.p, key.s, ver] }
        : { Statement: `INSERT INTO ${table} VALUE {'p': ?, 's': ?, 'v': ?, 'ver': ?}`, Parameters: [key.p, key.s, { B: plan.value }, ver] };
    };
    await mapLimit(chunks(plans, BATCH_STATEMENT_MAX), this.concurrency, async (chunk) => {
      let todo = chunk;
      for (let attempt = 1; todo.length > 0; attempt++) {
        const res = await this.retry(this.op('BatchExecuteStatement (putIfNewer)', `${todo[0].key} (+${todo.length - 1} more)`), () =>
          this.client.send(new BatchExecuteStatementCommand({ Statements: todo.map(statementFor) })),
        );
        const again: VersionedWrite[] = [];
        todo.forEach((plan, j) => {
          const code = res.Responses?.[j]?.Error?.Code;
          if (code === undefined) return;
          if (code === 'ConditionalCheckFailed' || code === 'DuplicateItem') raced.add(plan);
          else if (TRANSIENT_STATEMENT_ERRORS.has(code)) again.push(plan);
          else {
            throw new StorageError(`${this.op('BatchExecuteStatement (putIfNewer)', plan.key)} failed: ${code}: ${res.Responses?.[j]?.Error?.Message ?? ''}`.trim());
          }
        });
        todo = again;
        if (todo.length > 0) await this.backoffOrFail(attempt, 'BatchExecuteStatement', `${todo.length} throttled statements`);
      }
    });
    return raced;
  }

  /** Conditional put of a versioned entry: stored unless the key holds an equal or higher version. */
  private async conditionalPut(key: string, value: Uint8Array, version: bigint): Promise<boolean> {
    try {
      await this.retry(
        this.op('PutItem (putIfNewer)', key),
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: { ...this.versionedKey(key), v: { B: value }, ver: { N: version.toString() } },
              ConditionExpression: 'attribute_not_exists(#s) OR #ver < :ver',
              ExpressionAttributeNames: { '#s': 's', '#ver': 'ver' },
              ExpressionAttributeValues: { ':ver': { N: version.toString() } },
            }),
          ),
        isConditionFailure,
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Adds the plain partitions of `keys` to the registry (once per instance; idempotent, so races are harmless). */
  private async register(keys: string[]): Promise<void> {
    const fresh = new Set<string>();
    for (const k of keys) {
      const part = partitionOf(k, this.depth);
      if (part !== '' && !this.registered.has(part)) fresh.add(part); // '' encloses every start: always visited
    }
    if (fresh.size === 0) return;
    await this.batchWrite([...fresh].map((part) => ({ PutRequest: { Item: { p: { S: REGISTRY_PARTITION }, s: { S: part } } } })));
    for (const part of fresh) this.registered.add(part);
  }

  /**
   * Plain items in [start, end) ∩ prefix, in key order. One partition when the prefix pins it; else a
   * merge of the partitions enclosing `start` and the registered partitions inside the range, each
   * opened only when the merge reaches its name (a partition is a prefix of its keys, so nothing in it
   * sorts below its name). `limit` caps each Query page.
   */
  private async *plainItems(range: KvRange, projection: string, limit?: number): AsyncIterable<Item> {
    const { start, upper, prefix } = effectiveBounds(range);
    if (upper !== undefined && compareUtf8(start, upper) >= 0) return;
    const inRange = (key: string) => compareUtf8(key, start) >= 0 && (upper === undefined || compareUtf8(key, upper) < 0) && key.startsWith(prefix);
    const open = (part: string) => this.queryPartition(plainPartitionKey(part), start, upper, projection, limit)[Symbol.asyncIterator]();
    const heads: { key: string; item: Item; rest: AsyncIterator<Item> }[] = [];
    const activate = async (rest: AsyncIterator<Item>) => {
      const next = await rest.next();
      if (!next.done) heads.push({ key: next.value.s.S!, item: next.value, rest });
    };
    let pending: AsyncIterator<string> | undefined;
    let nextPartition: string | undefined;
    if (prefix !== '' && prefixPinsPartition(prefix, this.depth)) {
      await activate(open(partitionOf(prefix, this.depth)));
    } else {
      const enclosing = enclosingPartitions(start, this.depth);
      for (const part of enclosing) await activate(open(part));
      pending = this.registeredPartitions(start, upper, new Set(enclosing))[Symbol.asyncIterator]();
      nextPartition = await pull(pending);
    }
    let remaining = limit;
    for (;;) {
      // Open every partition whose name is not above the smallest pending key: it may hold smaller keys.
      while (pending && nextPartition !== undefined && (heads.length === 0 || compareUtf8(nextPartition, minHead(heads).key) <= 0)) {
        await activate(open(nextPartition));
        nextPartition = await pull(pending);
      }
      if (heads.length === 0) return;
      const head = minHead(heads);
      heads.splice(heads.indexOf(head), 1);
      if (upper !== undefined && compareUtf8(head.key, upper) >= 0) continue; // this partition is done
      if (inRange(head.key)) {
        yield head.item;
        if (remaining !== undefined && --remaining === 0) return;
      }
      await activate(head.rest);
    }
  }

  /** Registered plain partitions strictly inside (from, to), in order, except `skip`. */
  private async *registeredPartitions(from: string, to: string | undefined, skip: Set<string>): AsyncIterable<string> {
    for await (const item of this.queryPartition(REGISTRY_PARTITION, from, to, '#s')) {
      const part = item.s.S!;
      if (compareUtf8(part, from) <= 0 || skip.has(part)) continue;
      yield part;
    }
  }

  /**
   * Items of one partition with sort key in [lower, upper) in order, page by page. Bounds a key
   * condition cannot hold (empty, over 1024 bytes) are left to the caller's own checks.
   */
  private async *queryPartition(partition: string, lower: string, upper: string | undefined, projection: string, pageLimit?: number): AsyncIterable<Item> {
    const lo = usableAsKeyBound(lower) ? lower : undefined;
    const hi = upper !== undefined && usableAsKeyBound(upper) ? upper : undefined;
    let condition = '#p = :p';
    const values: Record<string, AttributeValue> = { ':p': { S: partition } };
    if (lo !== undefined && hi !== undefined) {
      condition += ' AND #s BETWEEN :lo AND :hi';
      values[':lo'] = { S: lo };
      values[':hi'] = { S: hi };
    } else if (lo !== undefined) {
      condition += ' AND #s >= :lo';
      values[':lo'] = { S: lo };
    } else if (hi !== undefined) {
      condition += ' AND #s <= :hi';
      values[':hi'] = { S: hi };
    }
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: condition,
        ExpressionAttributeNames: { ...namesIn(projection), '#p': 'p', '#s': 's' },
        ExpressionAttributeValues: values,
        ProjectionExpression: projection,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
        // One extra row covers the inclusive upper bound of BETWEEN that the caller drops.
        Limit: pageLimit === undefined ? undefined : pageLimit + 1,
      };
      const res = await this.retry(`DynamoDB Query on table ${this.tableName} partition ${JSON.stringify(partition)} from ${JSON.stringify(lower)}`, () =>
        this.client.send(new QueryCommand(input)),
      );
      for (const item of res.Items ?? []) {
        if (upper !== undefined && item.s.S === upper) return; // BETWEEN includes its upper bound
        yield item;
      }
      startKey = res.LastEvaluatedKey;
    } while (startKey);
  }

  /** Deletes plain and versioned entries in the range; returns how many went. */
  private async deleteMatching(range: { start?: string; end?: string; prefix?: string }): Promise<number> {
    let removed = 0;
    let batch: WriteRequest[] = [];
    const flush = async () => {
      const requests = batch;
      batch = [];
      await this.batchWrite(requests);
      removed += requests.length;
    };
    // Collect a page's worth, delete it, carry on: bounded memory however large the range is.
    for await (const item of this.plainItems(range, '#p, #s')) {
      batch.push({ DeleteRequest: { Key: { p: item.p, s: item.s } } });
      if (batch.length >= 1000) await flush();
    }
    await flush();
    const counts = await mapLimit(
      Array.from({ length: this.buckets }, (_, b) => b),
      this.concurrency,
      (bucket) => this.deleteVersionedBucket(bucket, range),
    );
    return removed + counts.reduce((a, b) => a + b, 0);
  }

  /** Deletes one versioned bucket's entries in the range; returns how many went. */
  private async deleteVersionedBucket(bucket: number, range: { start?: string; end?: string; prefix?: string }): Promise<number> {
    const { start, upper, prefix } = effectiveBounds(range);
    if (upper !== undefined && compareUtf8(start, upper) >= 0) return 0;
    const keys: ItemKey[] = [];
    for await (const item of this.queryPartition(versionedBucketKey(bucket), start, upper, '#p, #s')) {
      const key = item.s.S!;
      if (compareUtf8(key, start) < 0 || !key.startsWith(prefix)) continue;
      if (upper !== undefined && compareUtf8(key, upper) >= 0) break;
      keys.push({ p: item.p, s: item.s });
    }
    await this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
    return keys.length;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(`DynamoDbKvStore on table ${this.tableName} is closed; create a new store`);
  }
}

/**
 * A range as one walk: inclusive `start` (at least the prefix), exclusive `upper` (the smaller of `end`
 * and the first string past the prefix; undefined when unbounded) and the prefix every key must have.
 */
function effectiveBounds(range: KvRange): { start: string; upper: string | undefined; prefix: string } {
  const { start, end, prefix } = rangeBounds(range);
  const successor = prefix === '' ? undefined : prefixSuccessor(prefix);
  const upper = end === undefined ? successor : successor === undefined || compareUtf8(end, successor) < 0 ? end : successor;
  return { start, upper, prefix };
}

/** The next value of an iterator, or undefined at its end. */
async function pull<T>(it: AsyncIterator<T>): Promise<T | undefined> {
  const next = await it.next();
  return next.done ? undefined : next.value;
}

/** The head with the smallest key (the merge holds at most depth + 2 heads at once, so a scan is enough). */
function minHead<T extends { key: string }>(heads: T[]): T {
  let best = heads[0];
  for (const h of heads) if (compareUtf8(h.key, best.key) < 0) best = h;
  return best;
}

/** The value bytes of an item (an empty value may come back as an absent or empty attribute). */
function valueOf(item: Item): Uint8Array {
  return item.v?.B ?? new Uint8Array(0);
}

/** A versioned item as the port returns it. */
function versionedOf(item: Item): { value: Uint8Array; version: bigint } {
  return { value: valueOf(item), version: BigInt(item.ver?.N ?? '0') };
}

/** Whether a conditional write failed its condition (not an error: the version was not newer). */
function isConditionFailure(err: unknown): boolean {
  return awsErrorName(err) === 'ConditionalCheckFailedException';
}

/** ExpressionAttributeNames for the `#name` placeholders used in `expression`. */
function namesIn(expression: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of expression.matchAll(/#\w+/g)) out[m[0]] = NAMES[m[0] as keyof typeof NAMES];
  return out;
}

/** Throws unless `keys` is an array of valid KV keys. */
function checkKeys(keys: unknown): asserts keys is string[] {
  if (!Array.isArray(keys)) throw new TypeError(`expected an array of KV keys, got ${describe(keys)}`);
  keys.forEach(checkKvKey);
}

/** Throws unless `value` is bytes that fit in one DynamoDB item together with `key`. */
function checkValue(key: string, value: unknown): asserts value is Uint8Array {
  checkBytes(value, `value for KV key ${JSON.stringify(key)}`);
  const size = value.byteLength + 2 * utf8Length(key) + ITEM_OVERHEAD_BYTES;
  if (size > MAX_ITEM_BYTES) {
    throw new RangeError(
      `value for KV key ${JSON.stringify(key.slice(0, 60))} is ${value.byteLength} bytes, too large for one DynamoDB item (400 KB with its key); store large blobs in the object store and keep a reference here`,
    );
  }
}

/** Throws unless `name` is a valid DynamoDB table name. */
function checkTableName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(name)) {
    throw new RangeError(`DynamoDB table name must be 3-255 letters, digits, '_', '-' or '.', got ${describe(name)}`);
  }
}

/** Polls DescribeTable until the table reaches `status`. */
async function waitForTableStatus(client: DynamoDBClient, tableName: string, status: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 'unknown';
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    const res = await withRetries(`DynamoDB DescribeTable ${tableName}`, () => client.send(new DescribeTableCommand({ TableName: tableName })));
    seen = res.Table?.TableStatus ?? 'unknown';
    if (seen === status) return;
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt)));
  }
  throw new StorageError(`DynamoDB table ${tableName} is still ${seen} after ${timeoutMs} ms, not ${status}; check the table in the console and retry`);
}
