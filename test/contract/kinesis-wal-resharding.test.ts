/**
 * KinesisWal across resharding, on kinesis-mock + DynamoDB Local with the real SDK: on-demand streams
 * split and merge shards by themselves, so a channel's records must survive UpdateShardCount,
 * SplitShard and MergeShards — none lost, duplicated or reordered, read from any position, with the
 * tail exact — and appends after the reshard must land on the child shards. The dev poller (the
 * event source mapping's stand-in) follows the children, parents first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decodeKinesisRecord } from '../../lib/adapters/aws/kinesis-record-format.ts';
import { KinesisWal, type KinesisWalOptions } from '../../lib/adapters/aws/kinesis-wal.ts';
import { startKinesisPoller } from '../../lib/aws/kinesis-poller.ts';
import { NotFoundError } from '../../lib/engine/errors.ts';
import type { Wal, WalRecord } from '../../lib/engine/ports/wal.ts';
import { startEmulators, type Emulators } from '../support/emulators.ts';
import { assertBytes, pseudoRandomBytes, rejectsWith, utf8 } from './contract-helpers.ts';

let emulators: Emulators | undefined;
let admin: KinesisClient;
let streams = 0;

before(async () => {
  emulators = await startEmulators({ services: ['kinesis', 'dynamodb'] });
  admin = new KinesisClient({ requestHandler: new NodeHttpHandler() });
});
after(async () => {
  admin?.destroy();
  await emulators?.stop();
});

type Names = Pick<KinesisWalOptions, 'streamName' | 'indexTableName'>;

/** A new stream of `shardCount` shards and index table, and options naming them. */
async function freshResources(shardCount: number): Promise<Names> {
  const n = ++streams;
  const names = { streamName: `reshard-${process.pid}-${n}`, indexTableName: `reshard-index-${process.pid}-${n}` };
  await KinesisWal.createResources({ ...names, shardCount });
  return names;
}

/** Every shard of the stream, closed ones included. */
async function listShards(streamName: string): Promise<Shard[]> {
  return (await admin.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
}

/** The open shards, by hash range. */
async function openShards(streamName: string): Promise<Shard[]> {
  return (await listShards(streamName))
    .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
    .sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
}

/** Waits until a reshard is over (the stream is ACTIVE again). */
async function untilActive(streamName: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await admin.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (res.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

/** UpdateShardCount with uniform scaling, waited for. */
async function scaleTo(streamName: string, target: number): Promise<void> {
  await admin.send(new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
  await untilActive(streamName);
}

/** Splits `shard` in the middle of its hash range, waited for. */
async function splitInHalf(streamName: string, shard: Shard): Promise<void> {
  const lo = BigInt(shard.HashKeyRange!.StartingHashKey!);
  const hi = BigInt(shard.HashKeyRange!.EndingHashKey!);
  await admin.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: shard.ShardId, NewStartingHashKey: ((lo + hi) / 2n).toString() }));
  await untilActive(streamName);
}

/** Every raw record of a stream (all shards, closed ones included), decoded, with its shard. */
async function rawRecords(streamName: string): Promise<{ shard: string; channel: string; position: bigint; fragment: number }[]> {
  const out: { shard: string; channel: string; position: bigint; fragment: number }[] = [];
  for (const s of await listShards(streamName)) {
    let it = (await admin.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (it) {
      const res = await admin.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of res.Records ?? []) {
        const { header } = decodeKinesisRecord(r.Data!, 'test');
        out.push({ shard: s.ShardId!, channel: header.channel, position: header.position, fragment: header.fragment });
      }
      if (!res.Records?.length) break;
      it = res.NextShardIterator;
    }
  }
  return out;
}

/** Reads a whole channel from `from` in pages of `page`. */
async function readAll(wal: Wal, channel: string, from: bigint, page: number): Promise<WalRecord[]> {
  const out: WalRecord[] = [];
  for (;;) {
    const got = await wal.read(channel, from + BigInt(out.length), page);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

/** Asserts the channel reads back exactly `expected` from every position, whole and in pages. */
async function assertChannel(wal: Wal, channel: string, expected: string[]): Promise<void> {
  const text = (rs: WalRecord[]) => rs.map((r) => Buffer.from(r.data).toString());
  assert.equal(await wal.tail(channel), BigInt(expected.length), `tail of ${channel}`);
  for (const page of [1000, 3]) {
    const all = await readAll(wal, channel, 0n, page);
    assert.deepEqual(text(all), expected, `${channel} from 0 in pages of ${page}`);
    assert.deepEqual(
      all.map((r) => r.position),
      expected.map((_, i) => BigInt(i)),
    );
  }
  for (let from = 0; from <= expected.length; from++) {
    assert.deepEqual(text(await wal.read(channel, BigInt(from), 4)), expected.slice(from, from + 4), `${channel} from ${from}`);
  }
}

/** Appends one round of two records to every channel at once, noting them in `written`. */
async function appendRound(wal: Wal, written: Map<string, string[]>, tag: string): Promise<void> {
  await Promise.all(
    [...written].map(async ([channel, records]) => {
      const batch = [`${channel} ${tag}.0`, `${channel} ${tag}.1`];
      const first = await wal.append(channel, batch.map(utf8));
      assert.equal(first, BigInt(records.length), `${channel} ${tag} lands at the tail`);
      records.push(...batch);
    }),
  );
}

describe('KinesisWal across resharding', () => {
  it('UpdateShardCount 2 → 4: every channel reads back exactly its records from any position, and later appends land on the children, spread over them', async () => {
    const names = await freshResources(2);
    const writer = new KinesisWal(names);
    const channels = ['c5-0', 'c5-1', 'c5-2', 'c9-0', 'solo'];
    const written = new Map(channels.map((c) => [c, [] as string[]]));
    try {
      for (let r = 0; r < 3; r++) await appendRound(writer, written, `before${r}`);
      for (const c of channels) assert.equal((await writer.read(c, 0n, 6)).length, 6); // leaves cursors on the parent shards
      const parents = new Set((await openShards(names.streamName)).map((s) => s.ShardId!));

      await scaleTo(names.streamName, 4);
      const children = await openShards(names.streamName);
      assert.equal(children.length, 4);
      assert.ok(
        children.every((s) => !parents.has(s.ShardId!) && parents.has(s.ParentShardId!)),
        'the parents are closed and the open shards are their children',
      );

      for (let r = 0; r < 3; r++) await appendRound(writer, written, `after${r}`); // the writer listed the shards before the reshard
      const late = new KinesisWal(names); // lists the children only
      for (let r = 0; r < 2; r++) await appendRound(late, written, `late${r}`);
      await late.close();

      const reader = new KinesisWal(names);
      try {
        for (const c of channels) {
          assert.equal(written.get(c)!.length, 16);
          await assertChannel(reader, c, written.get(c)!);
          await assertChannel(writer, c, written.get(c)!);
        }
      } finally {
        await reader.close();
      }

      const raw = await rawRecords(names.streamName);
      assert.equal(raw.length, channels.length * 16, 'each record was put once');
      for (const r of raw) {
        assert.equal(parents.has(r.shard), r.position < 6n, `${r.channel} position ${r.position} is on ${r.shard}`);
      }
      // The first put after the reshard showed the writer its listing was stale; from then on it routes
      // among the children exactly as a writer started after the reshard does.
      const routed = new Map<string, Set<string>>();
      for (const r of raw.filter((r) => r.channel.startsWith('c5-') && r.position >= 8n)) routed.set(r.channel, (routed.get(r.channel) ?? new Set()).add(r.shard));
      assert.deepEqual(
        [...routed.values()].map((s) => s.size),
        [1, 1, 1],
        'each channel goes to one child',
      );
      assert.equal(new Set([...routed.values()].map((s) => [...s][0])).size, 3, "a collection's channels go to distinct children");
    } finally {
      await writer.close();
    }
  });

  it('SplitShard then MergeShards: reads follow each channel through parents and children with nothing lost, duplicated or reordered', async () => {
    const names = await freshResources(2);
    const writer = new KinesisWal(names);
    const channels = ['c3-0', 'c3-1', 'logs', 'other'];
    const written = new Map(channels.map((c) => [c, [] as string[]]));
    try {
      for (let r = 0; r < 2; r++) await appendRound(writer, written, `first${r}`);

      const [low] = await openShards(names.streamName);
      await splitInHalf(names.streamName, low);
      assert.equal((await openShards(names.streamName)).length, 3);
      for (let r = 0; r < 2; r++) await appendRound(writer, written, `split${r}`);
      const midReader = new KinesisWal(names);
      for (const c of channels) await assertChannel(midReader, c, written.get(c)!);
      await midReader.close();

      const open = await openShards(names.streamName);
      await admin.send(new MergeShardsCommand({ StreamName: names.streamName, ShardToMerge: open[1].ShardId, AdjacentShardToMerge: open[2].ShardId }));
      await untilActive(names.streamName);
      const merged = await openShards(names.streamName);
      assert.equal(merged.length, 2);
      assert.ok(
        merged.some((s) => s.ParentShardId && s.AdjacentParentShardId),
        'one open shard is the merge of two',
      );
      for (let r = 0; r < 2; r++) await appendRound(writer, written, `merged${r}`);
      const late = new KinesisWal(names);
      await appendRound(late, written, 'late');
      await late.close();

      const reader = new KinesisWal(names);
      try {
        for (const c of channels) {
          assert.equal(written.get(c)!.length, 14);
          await assertChannel(reader, c, written.get(c)!);
        }
      } finally {
        await reader.close();
      }
      const openNow = new Set(merged.map((s) => s.ShardId!));
      const raw = await rawRecords(names.streamName);
      assert.equal(raw.length, channels.length * 14, 'each record was put once');
      assert.ok(
        raw.filter((r) => r.position >= 8n).every((r) => openNow.has(r.shard)),
        'appends after the merge land on the shards open now',
      );
    } finally {
      await writer.close();
    }
  });

  it('a reshard in the middle of one append: the records before it stay on the parent, the rest land on the child, and the append reads back whole and in order', async () => {
    const names = await freshResources(1);
    let puts = 0;
    let reshardBeforePut = 3;
    // The real SDK against kinesis-mock; the hook only reshards the stream between two PutRecords calls of one append.
    const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutRecordsCommand' && ++puts === reshardBeforePut) await scaleTo(names.streamName, (await openShards(names.streamName)).length * 2);
        return next(args);
      },
      { step: 'initialize', name: 'reshardBetweenPuts' },
    );
    // One record per PutRecords call: 1 KiB records, 1 KiB calls.
    const wal = new KinesisWal({ ...names, kinesis, maxRecordBytes: 1024, maxBatchBytes: 1024 });
    try {
      const records = Array.from({ length: 6 }, (_, i) => pseudoRandomBytes(600, i + 1));
      assert.equal(await wal.append('m-0', records), 0n);
      const [parent] = (await listShards(names.streamName)).filter((s) => !s.ParentShardId);
      let raw = await rawRecords(names.streamName);
      assert.deepEqual(
        raw.filter((r) => r.shard === parent.ShardId).map((r) => r.position),
        [0n, 1n],
      );
      assert.deepEqual(
        raw.filter((r) => r.shard !== parent.ShardId).map((r) => r.position),
        [2n, 3n, 4n, 5n],
      );
      const fresh = new KinesisWal(names);
      try {
        const got = await fresh.read('m-0', 0n, 100);
        assert.deepEqual(
          got.map((r) => r.position),
          [0n, 1n, 2n, 3n, 4n, 5n],
        );
        got.forEach((r, i) => assertBytes(r.data, records[i]));
        assert.equal(await fresh.tail('m-0'), 6n);

        // A record split into fragments, resharded after its first fragment: put again whole on the child.
        const big = pseudoRandomBytes(2500, 42);
        reshardBeforePut = puts + 2;
        assert.equal(await wal.append('m-0', [big, utf8('after big')]), 6n);
        raw = await rawRecords(names.streamName);
        const bigCopies = raw.filter((r) => r.position === 6n);
        const shardsNow = new Set((await openShards(names.streamName)).map((s) => s.ShardId!));
        const fragments = bigCopies.filter((r) => shardsNow.has(r.shard));
        assert.ok(fragments.length >= 3, `the big record is ${fragments.length} fragments`);
        assert.equal(new Set(fragments.map((r) => r.shard)).size, 1, 'its fragments are all on one open shard');
        assert.deepEqual(
          bigCopies.filter((r) => !shardsNow.has(r.shard)).map((r) => r.fragment),
          [0],
          'the fragment put before the reshard is an orphan on the closed shard',
        );
        const tail = await fresh.read('m-0', 5n, 10);
        assert.deepEqual(
          tail.map((r) => r.position),
          [5n, 6n, 7n],
        );
        assertBytes(tail[0].data, records[5]);
        assertBytes(tail[1].data, big);
        assertBytes(tail[2].data, 'after big');
        assert.equal(await wal.tail('m-0'), 8n);
      } finally {
        await fresh.close();
      }
    } finally {
      await wal.close();
    }
  });

  it('reading positions whose closed shard aged past the retention is NotFound, not a storage fault', async () => {
    const names = await freshResources(1);
    const wal = new KinesisWal(names);
    const dynamodb = new DynamoDBClient({});
    try {
      await wal.append('gone-0', [utf8('a'), utf8('b')]);
      await scaleTo(names.streamName, 2);
      await wal.append('gone-0', [utf8('c')]);
      // kinesis-mock keeps closed shards; name a shard the stream no longer has, as after the retention.
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: names.indexTableName,
          Key: { p: { S: 'b#gone-0#0' }, s: { N: '0' } },
          UpdateExpression: 'SET sh = :sh',
          ExpressionAttributeValues: { ':sh': { S: 'shardId-000000009999' } },
        }),
      );
      await rejectsWith(wal.read('gone-0', 0n, 10), NotFoundError, /shard shardId-000000009999 .* is gone: closed by a reshard and past the stream's retention/);
      assert.deepEqual(
        (await wal.read('gone-0', 2n, 10)).map((r) => Buffer.from(r.data).toString()),
        ['c'],
      );
    } finally {
      dynamodb.destroy();
      await wal.close();
    }
  });
});

describe('the dev poller across resharding', () => {
  it('delivers every record once, a partition key’s records in order, polling the children after their parents', async () => {
    const { streamName } = await freshResources(1);
    const put = async (from: number, to: number) => {
      const records = [];
      for (let i = from; i < to; i++) for (let k = 0; k < 5; k++) records.push({ PartitionKey: `k${k}`, Data: utf8(`k${k}:${i}`) });
      await admin.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
    };
    const delivered: { shard: string; text: string }[] = [];
    const poller = await startKinesisPoller({
      streamName,
      client: admin,
      listMs: 100,
      handle: async (batch, shard) => {
        for (const r of batch) delivered.push({ shard, text: Buffer.from(r.data, 'base64').toString('utf8') });
        return { batchItemFailures: [] };
      },
    });
    try {
      await put(0, 10);
      await scaleTo(streamName, 2);
      await put(10, 20);
      for (let i = 0; i < 200 && delivered.length < 100; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(delivered.length, 100, 'every record delivered');
      assert.equal(new Set(delivered.map((d) => d.text)).size, 100, 'none delivered twice');
      for (let k = 0; k < 5; k++) {
        const order = delivered.filter((d) => d.text.startsWith(`k${k}:`)).map((d) => Number(d.text.split(':')[1]));
        assert.deepEqual(
          order,
          Array.from({ length: 20 }, (_, i) => i),
          `k${k}'s records in order`,
        );
      }
      const shards = new Set(delivered.filter((d) => Number(d.text.split(':')[1]) >= 10).map((d) => d.shard));
      const open = new Set((await openShards(streamName)).map((s) => s.ShardId));
      assert.ok(
        [...shards].every((s) => open.has(s)),
        'records written after the reshard came from the children',
      );
    } finally {
      await poller.stop();
    }
  });
});
