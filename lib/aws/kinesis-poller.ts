/**
 * Feeds a Kinesis stream's batches to the ingest role the way Lambda's event source mapping does
 * (for `npm run dev:aws` and the tests): one poller per shard, in order, at most `batchSize`
 * records per batch; a batch item failure re-delivers the shard from the reported record after a
 * pause, like `reportBatchItemFailures`. It follows a reshard as the mapping does: the shard list is
 * read again every `listMs`, and a child shard is polled once its parents are read to their end,
 * so one partition key's records arrive in order across the reshard.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type _Record, type Shard } from '@aws-sdk/client-kinesis';
import { setTimeout as delay } from 'node:timers/promises';
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import { hookAwsClient } from '../adapters/aws/client-hook.ts';
import { defaultKinesisClient } from '../adapters/aws/kinesis-wal.ts';
import type { IngestRecord } from './ingest-role.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';

/** Handles one batch of one shard. */
export type BatchHandler = (records: IngestRecord[], shard: string) => Promise<KinesisStreamBatchResponse>;

/** Options of a poller. */
export interface PollerOptions {
  streamName: string;
  handle: BatchHandler;
  batchSize?: number;
  /** Pause between polls of an idle shard (ms). */
  idleMs?: number;
  /** How often the shard list is read again, to find the children of a reshard (ms). */
  listMs?: number;
  client?: KinesisClient;
  /** Where failed polls are logged (default: nowhere). */
  logger?: Logger;
}

/** A running poller. */
export interface RunningPoller {
  /** Stops polling; resolves when the in-flight batches are done. */
  stop(): Promise<void>;
}

/** Starts polling every shard of the stream from its oldest record, children after their parents. */
export async function startKinesisPoller(options: PollerOptions): Promise<RunningPoller> {
  const client = options.client ?? hookAwsClient(defaultKinesisClient());
  const log = options.logger ?? NOOP_LOGGER;
  const listShards = async () => (await client.send(new ListShardsCommand({ StreamName: options.streamName }))).Shards ?? [];
  let stopped = false;
  const idleMs = options.idleMs ?? 50;
  const iterator = async (shard: string, after?: string, at?: string) =>
    (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: options.streamName,
          ShardId: shard,
          ...(at
            ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: at }
            : after
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
              : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator!;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const known = new Map<string, Shard>();
  /** Shards read to their end (closed by a reshard). */
  const finished = new Set<string>();
  const loops = new Map<string, Promise<void>>();

  /** Polls one shard until it is closed and read to its end, or the poller stops. */
  const poll = async (shard: string): Promise<void> => {
    let it: string | undefined;
    let last: string | undefined;
    while (!stopped) {
      try {
        it ??= await iterator(shard, last);
        const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: options.batchSize ?? 100 }));
        const records: _Record[] = res.Records ?? [];
        if (records.length === 0) {
          if (!res.NextShardIterator) break; // a closed shard, read to its end
          it = res.NextShardIterator;
          await sleep(idleMs);
          continue;
        }
        const batch = records.map((r) => ({ data: Buffer.from(r.Data!).toString('base64'), sequenceNumber: r.SequenceNumber! }));
        const result = await options.handle(batch, shard);
        const failure = result.batchItemFailures[0]?.itemIdentifier;
        if (failure) {
          it = await iterator(shard, undefined, failure); // re-deliver from the failed record
          await sleep(500);
        } else {
          last = records[records.length - 1].SequenceNumber;
          it = res.NextShardIterator;
          if (!it) break;
        }
      } catch (err) {
        if (stopped) break;
        log.warn(`poller: shard ${shard} failed (retrying)`, { shard, error: err });
        it = undefined;
        await sleep(500);
      }
    }
    if (stopped) return;
    finished.add(shard);
    startReady();
  };

  /** Starts the known shards whose parents are read to their end (a parent no longer listed has aged out). */
  const startReady = (): void => {
    for (const [id, shard] of known) {
      if (loops.has(id)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => p !== undefined && known.has(p));
      if (parents.every((p) => finished.has(p))) loops.set(id, poll(id));
    }
  };

  const learn = (shards: Shard[]) => {
    for (const s of shards) if (!known.has(s.ShardId!)) known.set(s.ShardId!, s);
    startReady();
  };
  learn(await listShards());
  const stopping = new AbortController();
  const lister = (async () => {
    while (!stopped) {
      await delay(options.listMs ?? 1000, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopped) break;
      try {
        learn(await listShards());
      } catch (err) {
        if (!stopped) log.warn('poller: listing the shards failed (retrying)', { error: err });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      stopping.abort();
      await lister;
      // Loops started while others stopped are awaited too.
      for (let n = -1; n !== loops.size;) {
        n = loops.size;
        await Promise.all(loops.values());
      }
    },
  };
}
