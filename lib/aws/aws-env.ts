/**
 * The environment contract between the CDK stack (lib/infra) and the code it runs on AWS (the
 * Lambda handlers in lambdas/ and the querynode container, bin/querynode.ts). The stack sets these
 * variables; `resolveAwsConfig` (aws-config.ts) reads and validates them in one place.
 */

/** Names of the environment variables the AWS deployment sets. */
export const AWS_ENV = {
  /** S3 bucket holding segment chunks, delta logs and index files. */
  bucket: 'MIGRANS_BUCKET',
  /** DynamoDB table (p S / s S) holding the catalog, the PK index and the querynode registry. */
  table: 'MIGRANS_TABLE',
  /** DynamoDB table (p S / s N) holding the Kinesis WAL's position index. */
  walIndexTable: 'MIGRANS_WAL_INDEX_TABLE',
  /** The Kinesis stream every channel is written to. */
  stream: 'MIGRANS_STREAM',
  /** Name of the indexer function the ingest handler invokes (asynchronously) after a flush. */
  indexerFunction: 'MIGRANS_INDEXER_FUNCTION',
  /** ARN of the Secrets Manager secret holding the API token (the API handler checks it). */
  tokenSecretArn: 'MIGRANS_TOKEN_SECRET_ARN',
  /** The API token itself (local runs: `npm run dev:aws`); ignored when MIGRANS_TOKEN_SECRET_ARN is set. */
  token: 'MIGRANS_TOKEN',
  /** Port of the querynode's internal HTTP API. */
  querynodePort: 'MIGRANS_QUERYNODE_PORT',
  /** Address other roles reach this querynode at (default: the container's private IP). */
  querynodeAddress: 'MIGRANS_QUERYNODE_ADDRESS',
  /** Querynodes that hold each sealed segment (1–16, default 1): the API spreads reads over them, a querynode keeps resident the segments it holds. */
  replicas: 'MIGRANS_REPLICAS',
  /** Memory one compaction plan may use, in bytes (default: half of the compactor function's memory). */
  compactorMemoryBytes: 'MIGRANS_COMPACTOR_MEMORY_BYTES',
} as const;

/** Most querynodes that may hold one segment (MIGRANS_REPLICAS). */
export const MAX_REPLICAS = 16;

/** The CloudWatch namespace of every metric the roles publish. */
export const METRICS_NAMESPACE = 'Migrans';

/**
 * The per-channel checkpoint-age metric the ingest function's sweep publishes (embedded metric
 * format) and the stack's alarm reads: seconds since the oldest record not yet durable in flushed
 * segments was written, by stream and channel.
 */
export const CHECKPOINT_AGE_METRIC = { namespace: METRICS_NAMESPACE, name: 'CheckpointAgeSeconds', dimensions: ['Stream', 'Channel'] } as const;

/** The sweep's heartbeat (1 per completed sweep, by stream): its absence alarms, since a sweep that never runs publishes no ages. */
export const SWEEP_HEARTBEAT_METRIC = { namespace: METRICS_NAMESPACE, name: 'IdleSweeps', dimensions: ['Stream'] } as const;
