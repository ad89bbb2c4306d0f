/**
 * Wires the ingest function to the Kinesis stream the way a WAL consumer must be wired: in shard
 * order (one batch per shard at a time), with partial-batch responses so a failed record is retried
 * without re-running the records before it, bisection to isolate a poison record, an encrypted
 * on-failure queue for what still fails, and an alarm when the function falls behind.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Event source mapping settings (exported so tests assert the same numbers). */
export const INGEST_EVENT_SOURCE = {
  batchSize: 100,
  retryAttempts: 10,
  maxRecordAge: Duration.days(1),
  /** Per-shard order matters: records of one channel must be applied in sequence. */
  parallelizationFactor: 1,
  /** IteratorAge (ms) above which, for `alarmMinutes` minutes in a row, the alarm fires. */
  iteratorAgeAlarmMs: 60_000,
  alarmMinutes: 5,
} as const;

/** An SSE-encrypted, TLS-only queue keeping what a function gave up on for 14 days. */
export function encryptedFailureQueue(scope: Construct, id: string, removalPolicy: RemovalPolicy): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
}

/** Props of IngestEventSource. */
export interface IngestEventSourceProps {
  stream: kinesis.IStream;
  ingest: lambda.IFunction;
  removalPolicy: RemovalPolicy;
}

/** Kinesis event source mapping of the ingest function, its failure queue and its alarms. */
export class IngestEventSource extends Construct {
  /** Where batches that exhausted their retries (or outlived maxRecordAge) are described. */
  readonly failureQueue: sqs.Queue;
  /** Fires when the ingest function lags behind the stream. */
  readonly iteratorAgeAlarm: cloudwatch.Alarm;
  /** Fires when any batch lands in the failure queue (data the datanode did not apply). */
  readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: IngestEventSourceProps) {
    super(scope, id);
    this.failureQueue = encryptedFailureQueue(this, 'FailureQueue', props.removalPolicy);
    const s = INGEST_EVENT_SOURCE;
    props.ingest.addEventSource(
      new KinesisEventSource(props.stream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: s.batchSize,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: s.retryAttempts,
        maxRecordAge: s.maxRecordAge,
        parallelizationFactor: s.parallelizationFactor,
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription: `Migrans ingest is more than ${s.iteratorAgeAlarmMs / 1000} s behind the WAL stream`,
      metric: props.ingest.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) }),
      threshold: s.iteratorAgeAlarmMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: s.alarmMinutes,
      datapointsToAlarm: s.alarmMinutes,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: 'Migrans ingest gave up on a batch: see the ingest failure queue',
      metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
