/**
 * Feeds a Kinesis stream's batches to the ingest role the way Lambda's event source mapping does
 * (for `npm run dev:aws` and the tests): one poller per shard, in order, at most `batchSize`
 * records per batch; a batch item failure re-delivers the shard from the reported record after a
 * pause, like `reportBatchItemFailures`.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type _Record } from '@aws-sdk/client-kinesis';
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
  client?: KinesisClient;
  /** Where failed polls are logged (default: nowhere). */
  logger?: Logger;
}

/** A running poller. */
export interface RunningPoller {
  /** Stops polling; resolves when the in-flight batches are done. */
  stop(): Promise<void>;
}

/** Starts polling every shard of the stream from its oldest record. */
export async function startKinesisPoller(options: PollerOptions): Promise<RunningPoller> {
  const client = options.client ?? hookAwsClient(defaultKinesisClient());
  const shards = (await client.send(new ListShardsCommand({ StreamName: options.streamName }))).Shards ?? [];
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
  const loops = shards.map(async ({ ShardId: shard }) => {
    let it: string | undefined;
    let last: string | undefined;
    while (!stopped) {
      try {
        it ??= await iterator(shard!, last);
        const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: options.batchSize ?? 100 }));
        const records: _Record[] = res.Records ?? [];
        if (records.length === 0) {
          it = res.NextShardIterator;
          await sleep(idleMs);
          continue;
        }
        const batch = records.map((r) => ({ data: Buffer.from(r.Data!).toString('base64'), sequenceNumber: r.SequenceNumber! }));
        const result = await options.handle(batch, shard!);
        const failure = result.batchItemFailures[0]?.itemIdentifier;
        if (failure) {
          it = await iterator(shard!, undefined, failure); // re-deliver from the failed record
          await sleep(500);
        } else {
          last = records[records.length - 1].SequenceNumber;
          it = res.NextShardIterator;
        }
      } catch (err) {
        if (stopped) break;
        (options.logger ?? NOOP_LOGGER).warn(`poller: shard ${shard} failed (retrying)`, { shard, error: err });
        it = undefined;
        await sleep(500);
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
