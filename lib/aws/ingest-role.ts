/**
 * The ingest Lambda: Kinesis batch → the datanode, with partial-batch responses on failure; and,
 * invoked by its own schedule (an EventBridge rule: any event without Kinesis records), the
 * datanode's idle-channel sweep, which publishes each channel's checkpoint age as a CloudWatch
 * metric in the embedded metric format (one log line per channel; the stack alarms on it). Those
 * metric lines are raw EMF JSON on stdout; faults go through the powertools logger.
 */
import type { Context, KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';
import { decodeKinesisRecord } from '../adapters/aws/kinesis-record-format.ts';
import type { KinesisWal } from '../adapters/aws/kinesis-wal.ts';
import { resolveAwsConfig } from './aws-config.ts';
import { CHECKPOINT_AGE_METRIC, METRICS_NAMESPACE, SWEEP_HEARTBEAT_METRIC } from './aws-env.ts';
import { Datanode, type ChannelSweep } from './datanode.ts';
import { containerSingleton } from './container-singleton.ts';
import { configuredIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';
import { EmfMetrics } from '../adapters/aws/emf-metrics.ts';
import { meteredWal } from '../adapters/metrics/metered-wal.ts';
import type { AwsConfig } from './aws-config.ts';
import { powertoolsLogger } from '../adapters/aws/powertools-logger.ts';
import { resolveLogConfig } from '../config.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';

/** Time kept back from the Lambda deadline to report the batch result. */
const DEADLINE_MARGIN_MS = 10_000;

/** One Kinesis record as the event source hands it over. */
export interface IngestRecord {
  /** Base64 record data. */
  data: string;
  sequenceNumber: string;
}

/** The shard a batch was read from and the WAL that may take its records instead of reading them again. */
export interface Delivery {
  shard: string;
  wal: Pick<KinesisWal, 'offerDelivered'>;
}

/**
 * Applies the channels a batch wakes. On failure the batch's first record of a failed channel is
 * reported, so the event source retries from there (it bisects and, after its retries, sends the
 * batch to the on-failure destination); channels that succeeded replay as no-ops. With `delivery`,
 * the WAL reads the batch's records from the batch rather than from the shard a second time.
 */
export async function ingestBatch(
  node: Datanode,
  records: IngestRecord[],
  deadline: number,
  logger: Logger = NOOP_LOGGER,
  delivery?: Delivery,
): Promise<KinesisStreamBatchResponse> {
  const decoded = records.map((r) => ({ sequenceNumber: r.sequenceNumber, data: Buffer.from(r.data, 'base64') }));
  delivery?.wal.offerDelivered(delivery.shard, decoded);
  const channelOf = new Map<string, string>();
  // Position after the batch's last record per channel: the datanode applies no further.
  const reach = new Map<string, bigint>();
  for (const r of decoded) {
    try {
      const { header } = decodeKinesisRecord(r.data, `record ${r.sequenceNumber}`);
      channelOf.set(r.sequenceNumber, header.channel);
      if (header.position + 1n > (reach.get(header.channel) ?? 0n)) reach.set(header.channel, header.position + 1n);
    } catch (error) {
      logger.warn(`ingest: skipping record ${r.sequenceNumber}, which is not a Migrans WAL record`, { sequenceNumber: r.sequenceNumber, error });
    }
  }
  const failed = await node.apply([...channelOf.values()], deadline, delivery ? reach : undefined);
  let first: string | undefined;
  for (const [seq, ch] of channelOf) {
    if (failed.has(ch) && (first === undefined || BigInt(seq) < BigInt(first))) first = seq;
  }
  return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first }] };
}

/** One embedded-metric-format log line per channel: its checkpoint age, by stream and channel. */
export function checkpointAgeLines(stream: string, sweeps: ChannelSweep[], now = Date.now()): string[] {
  return sweeps.map((s) =>
    JSON.stringify({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          { Namespace: CHECKPOINT_AGE_METRIC.namespace, Dimensions: [[...CHECKPOINT_AGE_METRIC.dimensions]], Metrics: [{ Name: CHECKPOINT_AGE_METRIC.name, Unit: 'Seconds' }] },
        ],
      },
      Stream: stream,
      Channel: s.channel,
      [CHECKPOINT_AGE_METRIC.name]: s.checkpointAgeSeconds,
      unflushedRecords: s.unflushedRecords,
      sealed: s.sealed,
    }),
  );
}

/** The EMF line of the sweep's heartbeat: one completed sweep on `stream`. */
export function sweepHeartbeatLine(stream: string, now = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: SWEEP_HEARTBEAT_METRIC.namespace, Dimensions: [[...SWEEP_HEARTBEAT_METRIC.dimensions]], Metrics: [{ Name: SWEEP_HEARTBEAT_METRIC.name, Unit: 'Count' }] },
      ],
    },
    Stream: stream,
    [SWEEP_HEARTBEAT_METRIC.name]: 1,
  });
}

/** The result of a scheduled invocation: the channels it sealed. */
export interface SweepResult {
  sealed: string[];
}

/** The Lambda handler (the datanode is opened once per container): Kinesis batches, and the scheduled sweep. */
export function ingestHandler(): (event: KinesisStreamEvent | Record<string, unknown>, context?: Context) => Promise<KinesisStreamBatchResponse | SweepResult> {
  const logger = powertoolsLogger(resolveLogConfig());
  const config = containerSingleton(async () => resolveAwsConfig());
  const metrics = new EmfMetrics(METRICS_NAMESPACE, 'datanode');
  const node = containerSingleton(async () => {
    const c = await config();
    const stores = openSharedStores(c);
    const datanode = await Datanode.open({ ...stores, wal: meteredWal(stores.wal, metrics) }, c.engine, configuredIndexerTrigger(c, logger), { logger });
    return { datanode, wal: stores.wal };
  });
  const handle = ingestInvocation(config, node, logger);
  return async (event, context) => {
    try {
      return await handle(event, context);
    } finally {
      // The invocation's WAL traffic (bytes read and written, tail reads) as EMF lines.
      await metrics.flush();
    }
  };
}

/** One ingest invocation: a Kinesis batch, or the scheduled sweep. */
function ingestInvocation(config: () => Promise<AwsConfig>, node: () => Promise<{ datanode: Datanode; wal: KinesisWal }>, logger: Logger) {
  return async (event: KinesisStreamEvent | Record<string, unknown>, context?: Context): Promise<KinesisStreamBatchResponse | SweepResult> => {
    if (!Array.isArray((event as KinesisStreamEvent).Records)) {
      const sweeps = await (await node()).datanode.sweep();
      const { stream } = await config();
      // EMF metric lines, not log entries: CloudWatch reads them from stdout exactly as written.
      for (const line of checkpointAgeLines(stream, sweeps)) console.log(line);
      console.log(sweepHeartbeatLine(stream));
      return { sealed: sweeps.filter((s) => s.sealed).map((s) => s.channel) };
    }
    const deadline = Date.now() + (context ? context.getRemainingTimeInMillis() : 60_000) - DEADLINE_MARGIN_MS;
    const kinesisRecords = (event as KinesisStreamEvent).Records;
    const records = kinesisRecords.map((r) => ({ data: r.kinesis.data, sequenceNumber: r.kinesis.sequenceNumber }));
    const { datanode, wal } = await node();
    // The event source reads one shard per batch; its eventIDs are "<shardId>:<sequenceNumber>".
    const shard = kinesisRecords[0]?.eventID.split(':')[0];
    return ingestBatch(datanode, records, deadline, context ? logger.child({ requestId: context.awsRequestId }) : logger, shard ? { shard, wal } : undefined);
  };
}
