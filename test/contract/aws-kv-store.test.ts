/** Runs the KvStore contract against DynamoDbKvStore on DynamoDB Local, then DynamoDB-specific checks. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbKvStore } from '../../lib/adapters/aws/dynamodb-kv-store.ts';
import { enclosingPartitions, partitionOf, prefixSuccessor } from '../../lib/adapters/aws/dynamodb-kv-layout.ts';
import { StorageError } from '../../lib/engine/errors.ts';
import type { KvStore } from '../../lib/engine/ports/kv-store.ts';
import { startFaultProxy } from '../../localstack/fault-proxy.ts';
import { startEmulators, type Emulators } from '../support/emulators.ts';
import { assertBytes, byteSorted, collect, rejectsWith, utf8 } from './contract-helpers.ts';
import { kvStoreContract } from './kv-store-contract.ts';

let emulators: Emulators | undefined;
let tables = 0;

before(async () => {
  emulators = await startEmulators({ services: ['dynamodb'] });
});
after(async () => {
  await emulators?.stop();
});

/** A fresh table name for one test. */
function tableName(): string {
  return `kv-${process.pid}-${++tables}`;
}

/** A store on a new table, closed and dropped by `cleanup`. */
async function freshStore(options: { versionedBuckets?: number; partitionDepth?: number; client?: DynamoDBClient } = {}) {
  const name = tableName();
  await DynamoDbKvStore.createTable(name);
  let current: KvStore = new DynamoDbKvStore({ tableName: name, ...options });
  return {
    name,
    get store() {
      return current;
    },
    reopen: async () => {
      await current.close();
      current = new DynamoDbKvStore({ tableName: name, ...options });
      return current;
    },
    cleanup: async () => {
      await current.close();
      await DynamoDbKvStore.deleteTable(name);
    },
  };
}

kvStoreContract('DynamoDB (DynamoDB Local)', async () => {
  const fx = await freshStore();
  return { store: fx.store, reopen: fx.reopen, cleanup: fx.cleanup };
});

describe('DynamoDbKvStore layout', () => {
  it('partitions plain keys by their leading directories and finds prefix successors', () => {
    assert.equal(partitionOf('meta/segment/000000000042/000000000007', 2), 'meta/segment/');
    assert.equal(partitionOf('meta/collection/000000000042', 2), 'meta/collection/');
    assert.equal(partitionOf('pk/000000000042/s-abc', 3), 'pk/000000000042/');
    assert.equal(partitionOf('meta/next-id', 2), 'meta/');
    assert.equal(partitionOf('plain', 2), '');
    assert.deepEqual(enclosingPartitions('a/b/c/d', 2), ['', 'a/', 'a/b/']);
    assert.equal(prefixSuccessor('a/'), 'a0');
    assert.equal(prefixSuccessor('a\u{10FFFF}'), 'b');
    assert.equal(prefixSuccessor('\uD7FF'), '\uE000');
    assert.equal(prefixSuccessor('\u{10FFFF}'), undefined);
  });
});

describe('DynamoDbKvStore specifics', () => {
  it('scans in byte order across many partitions, at every partition depth', async () => {
    const keys = ['a', 'a/1', 'a/1/x', 'a/1/x/y', 'a/2/z', 'a0', 'b/1/2/3', 'b/1/2/4', 'meta/collection/000000000001', 'meta/segment/000000000001/000000000002', 'z'];
    for (const depth of [1, 2, 3]) {
      const fx = await freshStore({ partitionDepth: depth });
      try {
        await fx.store.batchPut(keys.map((key) => ({ key, value: utf8(key) })));
        assert.deepEqual(
          (await collect(fx.store.scan({}))).map((e) => e.key),
          byteSorted(keys),
          `depth ${depth}`,
        );
        assert.deepEqual(
          (await collect(fx.store.scan({ prefix: 'a/1' }))).map((e) => e.key),
          ['a/1', 'a/1/x', 'a/1/x/y'],
          `depth ${depth}`,
        );
        assert.deepEqual(
          (await collect(fx.store.scan({ start: 'a/1/x', end: 'b/1/2/4' }))).map((e) => e.key),
          ['a/1/x', 'a/1/x/y', 'a/2/z', 'a0', 'b/1/2/3'],
          `depth ${depth}`,
        );
        assert.deepEqual(
          (await collect(fx.store.scan({ start: 'a/1/x', limit: 3 }))).map((e) => e.key),
          ['a/1/x', 'a/1/x/y', 'a/2/z'],
          `depth ${depth}`,
        );
        assert.equal(await fx.store.deleteRange({ start: 'a/1/x', end: 'b' }), 4);
        assert.equal(await fx.store.deletePrefix('meta/'), 2);
        assert.deepEqual(
          (await collect(fx.store.scan({}))).map((e) => e.key),
          ['a', 'a/1', 'b/1/2/3', 'b/1/2/4', 'z'],
          `depth ${depth}`,
        );
      } finally {
        await fx.cleanup();
      }
    }
  });

  it('pages through Query results larger than 1 MB and deletes thousands of keys of both kinds', async () => {
    const fx = await freshStore({ versionedBuckets: 4 });
    try {
      const big = new Uint8Array(3000).fill(7);
      const keys = Array.from({ length: 800 }, (_, i) => `meta/blob/${String(i).padStart(4, '0')}`);
      await fx.store.batchPut(keys.map((key) => ({ key, value: big })));
      const got = await collect(fx.store.scan({ prefix: 'meta/blob/' }));
      assert.deepEqual(
        got.map((e) => e.key),
        keys,
      ); // 2.4 MB: three Query pages
      await fx.store.batchPutIfNewer(keys.slice(0, 1500).map((key) => ({ key: `${key}/v`, value: utf8('v'), version: 3n })));
      assert.equal(await fx.store.deletePrefix('meta/blob/'), 1600);
      assert.deepEqual(await collect(fx.store.scan({})), []);
      assert.equal(await fx.store.getVersioned('meta/blob/0000/v'), undefined);
    } finally {
      await fx.cleanup();
    }
  });

  it('retries UnprocessedItems and UnprocessedKeys until every entry is written and read', async () => {
    const name = tableName();
    await DynamoDbKvStore.createTable(name);
    let withheld = 0;
    // Like DynamoDB under load: apply only the first half of each batch, hand the rest back.
    const proxy = await startFaultProxy(emulators!.env.AWS_ENDPOINT_URL_DYNAMODB, (operation, request) => {
      const req = request as { RequestItems: Record<string, unknown[] | { Keys: unknown[] }> };
      if (operation.endsWith('.BatchWriteItem')) {
        const items = req.RequestItems[name] as unknown[];
        if (items.length < 2) return undefined;
        const keep = items.slice(0, Math.ceil(items.length / 2));
        const rest = items.slice(keep.length);
        withheld += rest.length;
        return { request: { RequestItems: { [name]: keep } }, response: (body) => ({ ...(body as object), UnprocessedItems: { [name]: rest } }) };
      }
      if (operation.endsWith('.BatchGetItem')) {
        const spec = req.RequestItems[name] as { Keys: unknown[] };
        if (spec.Keys.length < 2) return undefined;
        const keep = spec.Keys.slice(0, Math.ceil(spec.Keys.length / 2));
        const rest = spec.Keys.slice(keep.length);
        withheld += rest.length;
        return {
          request: { RequestItems: { [name]: { ...spec, Keys: keep } } },
          response: (body) => ({ ...(body as object), UnprocessedKeys: { [name]: { ...spec, Keys: rest } } }),
        };
      }
      return undefined;
    });
    const store = new DynamoDbKvStore({ tableName: name, client: new DynamoDBClient({ endpoint: proxy.url }) });
    try {
      const entries = Array.from({ length: 120 }, (_, i) => ({ key: `u/${String(i).padStart(3, '0')}`, value: utf8(`value ${i}`) }));
      await store.batchPut(entries);
      const values = await store.batchGet(entries.map((e) => e.key));
      values.forEach((v, i) => assertBytes(v, `value ${i}`, entries[i].key));
      await store.batchDelete(entries.slice(0, 60).map((e) => e.key));
      assert.equal((await collect(store.scan({ prefix: 'u/' }))).length, 60);
      assert.ok(withheld > 100, `the proxy withheld ${withheld} items`);
      assert.ok((proxy.calls.get('BatchWriteItem') ?? 0) > 10, 'unprocessed items were retried');
    } finally {
      await store.close();
      await proxy.close();
      await DynamoDbKvStore.deleteTable(name);
    }
  });

  it('retries throttling errors and reports persistent ones as StorageError', async () => {
    const name = tableName();
    await DynamoDbKvStore.createTable(name);
    let throttles = 3;
    const proxy = await startFaultProxy(emulators!.env.AWS_ENDPOINT_URL_DYNAMODB, (operation) => {
      if (operation.endsWith('.PutItem') && throttles-- > 0) {
        return { error: { status: 400, type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' } };
      }
      if (operation.endsWith('.GetItem')) return { error: { status: 400, type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message: 'broken on purpose' } };
      return undefined;
    });
    const store = new DynamoDbKvStore({ tableName: name, client: new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 }) });
    try {
      await store.put('t/1', utf8('landed'));
      assert.equal(proxy.calls.get('PutItem'), 4, 'three throttled attempts, then success');
      const err = await rejectsWith(store.get('t/1'), StorageError, /GetItem on table kv-.* for key "t\/1" failed: ValidationException.*broken on purpose/);
      assert.ok(err.cause);
    } finally {
      await store.close();
      await proxy.close();
      await DynamoDbKvStore.deleteTable(name);
    }
  });

  it('conditional writes race correctly between two independent stores', async () => {
    const fx = await freshStore({ versionedBuckets: 2 });
    const other = new DynamoDbKvStore({ tableName: fx.name, versionedBuckets: 2 });
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `race/${i}`);
      const writes = [];
      for (let v = 1n; v <= 12n; v++) {
        const store = v % 2n ? fx.store : other;
        writes.push(store.batchPutIfNewer(keys.map((key) => ({ key, value: utf8(`${key}@${v}`), version: v }))));
      }
      const results = await Promise.all(writes);
      assert.ok(results.flat().filter(Boolean).length >= keys.length);
      const got = await other.batchGetVersioned(keys);
      got.forEach((g, i) => {
        assert.equal(g?.version, 12n);
        assertBytes(g?.value, `${keys[i]}@12`);
      });
      assert.deepEqual(await other.batchPutIfNewer([{ key: 'race/0', value: utf8('old'), version: 11n }]), [false]);
    } finally {
      await other.close();
      await fx.cleanup();
    }
  });

  it('spreads versioned keys over hash buckets while plain keys of a prefix share one partition', async () => {
    const fx = await freshStore({ versionedBuckets: 8 });
    try {
      await fx.store.batchPutIfNewer(Array.from({ length: 200 }, (_, i) => ({ key: `pk/000000000001/${i}`, value: utf8('e'), version: 1n })));
      await fx.store.batchPut(Array.from({ length: 5 }, (_, i) => ({ key: `meta/segment/000000000001/${i}`, value: utf8('m') })));
      const client = new DynamoDBClient({});
      const partitions = new Map<string, number>();
      for (const p of [...Array.from({ length: 8 }, (_, b) => `v:${b}`), 'k:meta/segment/']) {
        const res = await client.send(new QueryCommand({ TableName: fx.name, KeyConditionExpression: 'p = :p', ExpressionAttributeValues: { ':p': { S: p } }, Select: 'COUNT' }));
        partitions.set(p, res.Count ?? 0);
      }
      client.destroy();
      assert.equal(partitions.get('k:meta/segment/'), 5);
      const bucketCounts = [...partitions].filter(([p]) => p.startsWith('v:')).map(([, n]) => n);
      assert.equal(
        bucketCounts.reduce((a, b) => a + b, 0),
        200,
      );
      assert.ok(Math.max(...bucketCounts) < 60, `buckets are balanced: ${bucketCounts}`);
    } finally {
      await fx.cleanup();
    }
  });

  it('write() with more deletes than one transaction holds still removes versioned entries', async () => {
    const fx = await freshStore({ versionedBuckets: 2 });
    try {
      const keys = Array.from({ length: 100 }, (_, i) => `w/${i}`);
      await fx.store.batchPut(keys.map((key) => ({ key, value: utf8('p') })));
      await fx.store.batchPutIfNewer(keys.map((key) => ({ key, value: utf8('v'), version: 1n })));
      await fx.store.write(keys.map((key) => ({ type: 'delete', key })));
      assert.deepEqual(await collect(fx.store.scan({ prefix: 'w/' })), []);
      assert.deepEqual((await fx.store.batchGetVersioned(keys)).filter(Boolean), []);
    } finally {
      await fx.cleanup();
    }
  });

  it('explains a missing table and refuses values DynamoDB cannot hold', async () => {
    const store = new DynamoDbKvStore({ tableName: 'no-such-table' });
    try {
      await rejectsWith(store.get('k'), StorageError, /no-such-table does not exist: create it with DynamoDbKvStore.createTable/);
      await assert.rejects(store.put('k', new Uint8Array(400 * 1024)), (err: Error) => err instanceof RangeError && /too large for one DynamoDB item/.test(err.message));
    } finally {
      await store.close();
    }
    assert.throws(() => new DynamoDbKvStore({ tableName: 'x' }), RangeError);
    assert.throws(() => new DynamoDbKvStore({ tableName: 'okay', versionedBuckets: 0 }), /versionedBuckets/);
  });
});
