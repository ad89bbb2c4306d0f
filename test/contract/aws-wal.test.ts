/** Runs the Wal contract against KinesisWal on kinesis-mock + DynamoDB Local, then Kinesis-specific checks. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decodeKinesisRecord } from '../../lib/adapters/aws/kinesis-record-format.ts';
import { KinesisWal, type KinesisWalOptions } from '../../lib/adapters/aws/kinesis-wal.ts';
import { StorageError } from '../../lib/engine/errors.ts';
import type { Wal } from '../../lib/engine/ports/wal.ts';
import { startFaultProxy } from '../../localstack/fault-proxy.ts';
import { startEmulators, type Emulators } from '../support/emulators.ts';
import { assertBytes, pseudoRandomBytes, rejectsWith, utf8 } from './contract-helpers.ts';
import { walContract } from './wal-contract.ts';

let emulators: Emulators | undefined;
let streams = 0;

before(async () => {
  emulators = await startEmulators({ services: ['kinesis', 'dynamodb'] });
});
after(async () => {
  await emulators?.stop();
});

/** A new stream and index table, and options naming them. */
async function freshResources(shardCount = 2): Promise<Pick<KinesisWalOptions, 'streamName' | 'indexTableName'>> {
  const n = ++streams;
  const names = { streamName: `wal-${process.pid}-${n}`, indexTableName: `wal-index-${process.pid}-${n}` };
  await KinesisWal.createResources({ ...names, shardCount });
  return names;
}

/** Every raw record of a stream (all shards), decoded, for checking what readers skip. */
async function rawRecords(streamName: string) {
  const k = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  const out: { channel: string; position: bigint; sequenceNumber: string }[] = [];
  const shards = await k.send(new ListShardsCommand({ StreamName: streamName }));
  for (const s of shards.Shards ?? []) {
    let it = (await k.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (;;) {
      const res = await k.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of res.Records ?? []) {
        const { header } = decodeKinesisRecord(r.Data!, 'test');
        out.push({ channel: header.channel, position: header.position, sequenceNumber: r.SequenceNumber! });
      }
      if (!res.Records?.length) break;
      it = res.NextShardIterator;
    }
  }
  k.destroy();
  return out;
}

walContract('Kinesis (kinesis-mock + DynamoDB Local)', async () => {
  const names = await freshResources();
  let current: Wal = new KinesisWal(names);
  return {
    wal: current,
    reopen: async () => {
      await current.close();
      current = new KinesisWal(names);
      return current;
    },
    cleanup: async () => {
      await current.close();
    },
  };
});

describe('KinesisWal specifics', () => {
  it('splits records larger than one Kinesis record into fragments and reassembles them', async () => {
    const wal = new KinesisWal({ ...(await freshResources()), maxRecordBytes: 2048, maxBatchBytes: 8192 });
    try {
      const big = pseudoRandomBytes(20_000, 9);
      assert.equal(await wal.append('f-0', [utf8('small'), big, utf8('after'), new Uint8Array(0)]), 0n);
      assert.equal(await wal.append('f-0', [pseudoRandomBytes(5000, 2)]), 4n);
      const all = await wal.read('f-0', 0n, 10);
      assert.deepEqual(
        all.map((r) => r.position),
        [0n, 1n, 2n, 3n, 4n],
      );
      assertBytes(all[1].data, big);
      assertBytes(all[3].data, new Uint8Array(0));
      assertBytes((await wal.read('f-0', 4n, 1))[0].data, pseudoRandomBytes(5000, 2));
      assertBytes((await wal.read('f-0', 1n, 1))[0].data, big);
      assert.equal(await wal.tail('f-0'), 5n);
    } finally {
      await wal.close();
    }
  });

  it('a PutRecords partial failure re-puts the whole suffix, keeping order; the stray copies are skipped', async () => {
    const names = await freshResources(1);
    let failures = 0;
    // Like Kinesis under load: the 2nd entry of the first PutRecords call fails, the entries after it land.
    const proxy = await startFaultProxy(emulators!.env.AWS_ENDPOINT_URL_KINESIS, (operation, request) => {
      if (!operation.endsWith('.PutRecords') || failures >= 1) return undefined;
      const req = request as { Records: unknown[]; StreamName: string };
      failures++;
      return {
        request: { ...req, Records: [req.Records[0], ...req.Records.slice(2)] },
        response: (body) => {
          const res = body as { Records: unknown[]; FailedRecordCount: number };
          const failed = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' };
          return { ...res, FailedRecordCount: 1, Records: [res.Records[0], failed, ...res.Records.slice(1)] };
        },
      };
    });
    const wal = new KinesisWal({ ...names, kinesis: new KinesisClient({ endpoint: proxy.url, requestHandler: new NodeHttpHandler() }) });
    try {
      assert.equal(
        await wal.append(
          'p-0',
          Array.from({ length: 6 }, (_, i) => utf8(`r${i}`)),
        ),
        0n,
      );
      assert.equal(
        await wal.append(
          'p-0',
          Array.from({ length: 4 }, (_, i) => utf8(`s${i}`)),
        ),
        6n,
      );
      assert.equal(failures, 1);
      const got = await new KinesisWal(names).read('p-0', 0n, 100);
      assert.deepEqual(
        got.map((r) => Buffer.from(r.data).toString()),
        ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 's0', 's1', 's2', 's3'],
      );
      const raw = await rawRecords(names.streamName);
      // r1 failed while r2..r5 landed (now orphans); then the suffix r1..r5 again, then the next append.
      assert.deepEqual(
        raw.map((r) => r.position),
        [0n, 2n, 3n, 4n, 5n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n],
      );
    } finally {
      await wal.close();
      await proxy.close();
    }
  });

  it('many writers on one channel: positions stay contiguous and unique, lost races become orphans', async () => {
    const names = await freshResources(1);
    const writers = Array.from({ length: 3 }, () => new KinesisWal(names));
    try {
      const calls = writers.flatMap((w, wi) => Array.from({ length: 8 }, (_, i) => ({ w, records: [utf8(`w${wi}-${i}-a`), utf8(`w${wi}-${i}-b`)] })));
      const firsts = await Promise.all(calls.map((c) => c.w.append('m-0', c.records)));
      assert.equal(await writers[0].tail('m-0'), 48n);
      const all = await writers[1].read('m-0', 0n, 100);
      assert.equal(all.length, 48);
      calls.forEach((c, i) => {
        assertBytes(all[Number(firsts[i])].data, c.records[0]);
        assertBytes(all[Number(firsts[i]) + 1].data, c.records[1]);
      });
      assert.equal(new Set(firsts).size, calls.length);
      const raw = await rawRecords(names.streamName);
      assert.ok(raw.length >= 48, `the shard holds ${raw.length} records (48 committed, the rest orphans of lost races)`);
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it('channels sharing one shard are told apart, and raw records name their channel and position', async () => {
    const names = await freshResources(1);
    const wal = new KinesisWal(names);
    try {
      for (let i = 0; i < 5; i++) {
        await wal.append('s-0', [utf8(`a${i}`)]);
        await wal.append('s-1', [utf8(`b${i}`)]);
      }
      assert.deepEqual(
        (await wal.read('s-1', 2n, 10)).map((r) => Buffer.from(r.data).toString()),
        ['b2', 'b3', 'b4'],
      );
      assert.deepEqual(
        (await wal.read('s-0', 0n, 2)).map((r) => Buffer.from(r.data).toString()),
        ['a0', 'a1'],
      );
      assert.deepEqual(
        (await wal.read('s-0', 2n, 10)).map((r) => Buffer.from(r.data).toString()),
        ['a2', 'a3', 'a4'],
      ); // cached iterator
      const raw = await rawRecords(names.streamName);
      assert.deepEqual(
        raw.filter((r) => r.channel === 's-1').map((r) => r.position),
        [0n, 1n, 2n, 3n, 4n],
      );
    } finally {
      await wal.close();
    }
  });

  it('spreads the channels of one collection over distinct shards', async () => {
    const names = await freshResources(4);
    const wal = new KinesisWal(names);
    try {
      for (let s = 0; s < 4; s++) await wal.append(`c77-${s}`, [utf8(`shard ${s}`)]);
      const k = new KinesisClient({ requestHandler: new NodeHttpHandler() });
      const shards = (await k.send(new ListShardsCommand({ StreamName: names.streamName }))).Shards ?? [];
      let used = 0;
      for (const sh of shards) {
        const it = (await k.send(new GetShardIteratorCommand({ StreamName: names.streamName, ShardId: sh.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        if (((await k.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? []).length === 1) used++;
      }
      k.destroy();
      assert.equal(used, 4);
    } finally {
      await wal.close();
    }
  });

  it('reports missing resources and unreachable endpoints as StorageError with a hint', async () => {
    const wal = new KinesisWal({ streamName: 'no-such-stream', indexTableName: 'no-such-index' });
    try {
      await rejectsWith(wal.tail('c1-0'), StorageError, /no-such-index does not exist/);
    } finally {
      await wal.close();
    }
    const names = await freshResources(1);
    const offline = new KinesisWal({
      ...names,
      kinesis: new KinesisClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1, requestHandler: new NodeHttpHandler() }),
      dynamodb: new DynamoDBClient({}),
    });
    try {
      await rejectsWith(offline.append('c1-0', [utf8('x')]), StorageError, /ListShards of stream wal-/);
      assert.equal(await offline.tail('c1-0'), 0n, 'nothing was committed');
    } finally {
      await offline.close();
    }
  });
});
