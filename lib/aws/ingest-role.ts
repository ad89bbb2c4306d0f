/** The ingest Lambda: Kinesis batch → the datanode; partial-batch responses on failure. */
import type { Context, KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';
import { decodeKinesisRecord } from '../adapters/aws/kinesis-record-format.ts';
import { resolveAwsConfig } from './aws-config.ts';
import { Datanode } from './datanode.ts';
import { containerSingleton } from './container-singleton.ts';
import { configuredIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';

/** Time kept back from the Lambda deadline to report the batch result. */
const DEADLINE_MARGIN_MS = 10_000;

/** One Kinesis record as the event source hands it over. */
export interface IngestRecord {
  /** Base64 record data. */
  data: string;
  sequenceNumber: string;
}

/**
 * Applies the channels a batch wakes. On failure the batch's first record of a failed channel is
 * reported, so the event source retries from there (it bisects and, after its retries, sends the
 * batch to the on-failure destination); channels that succeeded replay as no-ops.
 */
export async function ingestBatch(node: Datanode, records: IngestRecord[], deadline: number): Promise<KinesisStreamBatchResponse> {
  const channelOf = new Map<string, string>();
  for (const r of records) {
    try {
      channelOf.set(r.sequenceNumber, decodeKinesisRecord(Buffer.from(r.data, 'base64'), `record ${r.sequenceNumber}`).header.channel);
    } catch (err) {
      console.error(`migrans ingest: skipping record ${r.sequenceNumber}, which is not a Migrans WAL record:`, err);
    }
  }
  const failed = await node.apply([...channelOf.values()], deadline);
  let first: string | undefined;
  for (const [seq, ch] of channelOf) {
    if (failed.has(ch) && (first === undefined || BigInt(seq) < BigInt(first))) first = seq;
  }
  return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first }] };
}

/** The Lambda handler (the datanode is opened once per container). */
export function ingestHandler(): (event: KinesisStreamEvent, context?: Context) => Promise<KinesisStreamBatchResponse> {
  const node = containerSingleton(() => {
    const config = resolveAwsConfig();
    return Datanode.open(openSharedStores(config), config.engine, configuredIndexerTrigger(config));
  });
  return async (event, context) => {
    const deadline = Date.now() + (context ? context.getRemainingTimeInMillis() : 60_000) - DEADLINE_MARGIN_MS;
    const records = event.Records.map((r) => ({ data: r.kinesis.data, sequenceNumber: r.kinesis.sequenceNumber }));
    return ingestBatch(await node(), records, deadline);
  };
}
