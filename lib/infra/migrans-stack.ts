/**
 * MigransStack: the whole serverless deployment in one stack (see lib/infra/README.md).
 *
 *   API Gateway REST → api Lambda ──append──▶ Kinesis (the WAL) ──event source──▶ ingest Lambda
 *        │  (VPC)                                   │                               │ invoke (async)
 *        └──search/query/get──▶ Fargate querynodes ◀┘ tail                          ▼
 *                                   ▲ S3 (segments, indexes), DynamoDB (catalog, PK index, registry)
 *   EventBridge every minute → compactor Lambda                                indexer Lambda
 *   EventBridge every minute → ingest Lambda (idle-channel sweep; checkpoint-age metric and alarm)
 *
 * Every function and the querynode container get the variable names of lib/aws/aws-env.ts (AWS_ENV),
 * and each gets only the permissions its role needs.
 */
import { CfnOutput, Duration, Fn, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AWS_ENV, CHECKPOINT_AGE_METRIC, MAX_REPLICAS, SWEEP_HEARTBEAT_METRIC } from '../aws/aws-env.ts';
import { ENGINE_ENV } from '../config.ts';
import { encryptedFailureQueue, IngestEventSource } from './ingest-event-source.ts';
import { MigransHttpApi, MigransRestApi, MigransTokenSecret, type MigransApiEndpoint } from './migrans-api.ts';
import { MIGRANS_ARCHITECTURES, type MigransArchitecture, MigransFunction } from './migrans-function.ts';
import { MigransNetwork } from './migrans-network.ts';
import { MigransStorage } from './migrans-storage.ts';
import { describeFargateMemory, FARGATE_MEMORY_MIB, QuerynodeService } from './querynode-service.ts';
import { grantKvReadWrite, grantWalAppend, grantWalRead } from './role-grants.ts';
import { StackPropsError } from './stack-props-error.ts';

/** The engine variable the stack sets (from lib/config.ts ENGINE_ENV, so a rename there reaches here). */
const SEAL_ROWS_ENV = Object.keys(ENGINE_ENV).find((name) => ENGINE_ENV[name] === 'sealRows')!;
const MAX_SEGMENT_BYTES_ENV = Object.keys(ENGINE_ENV).find((name) => ENGINE_ENV[name] === 'maxSegmentBytes')!;
/** A channel's checkpoint age that alarms: twice the sweep's forced-seal age (lib/aws/datanode.ts), far below the stream's retention. */
const CHECKPOINT_AGE_ALARM_SECONDS = 2 * 3600;

/** How clients authenticate. Only 'token' exists: a bearer token generated into Secrets Manager. */
export type MigransAuthMode = 'token';

/**
 * Where querynodes run: 'fargate' (the ECS service in a VPC), or 'external' (no VPC, no ECS: the
 * querynode runs as a process you start, e.g. under LocalStack, whose free tier has no ECS).
 */
export type QuerynodeMode = 'fargate' | 'external';

/** The API Gateway flavours the stack can put in front of the api function. */
export type MigransApiType = 'rest' | 'http';

/** Props of MigransStack; every one has a default (MIGRANS_STACK_DEFAULTS). */
export interface MigransStackProps extends StackProps {
  /** Provisioned Kinesis shards (channels map onto them); ignored when `onDemand`. Changing it later reshards the stream (UpdateShardCount), which the WAL follows. */
  shardCount?: number;
  /** On-demand Kinesis capacity instead of `shardCount` (Kinesis splits and merges the shards by itself; the WAL follows reshards). */
  onDemand?: boolean;
  /**
   * How long Kinesis keeps WAL records (hours, 24–8760): how long a failing datanode may leave rows
   * unflushed before they are lost (the checkpoint-age alarm fires at 2 h). Past 24 h each shard pays
   * extended retention ($0.02/shard-hour, $14.60 a month).
   */
  streamRetentionHours?: number;
  /** Where querynodes run. */
  querynodes?: QuerynodeMode;
  /** Querynode tasks at deploy time, and the autoscaling minimum. */
  querynodeCount?: number;
  /** Run querynodes on Fargate Spot (~70 % cheaper; a reclaimed node gets 2 minutes' warning and is replaced). x86_64 only. */
  querynodeSpot?: boolean;
  /** CPU architecture of the Lambda functions and the querynode task: 'arm64' (Graviton) is ~20 % cheaper, its image needs an arm64 build (lib/infra/README.md). */
  architecture?: MigransArchitecture;
  /** Autoscaling maximum (default: twice `querynodeCount`). */
  querynodeMaxCount?: number;
  /** Fargate CPU units per querynode (1024 = 1 vCPU). */
  querynodeCpu?: number;
  /** Memory per querynode (MiB), a valid Fargate combination with `querynodeCpu`. */
  querynodeMemoryMiB?: number;
  /** Disk per querynode (GiB, 21–200): the local cache of index files. */
  querynodeDiskGiB?: number;
  /** The querynodes' internal HTTP port. */
  querynodePort?: number;
  /** Querynodes that hold and serve each sealed segment (1–16): reads of a segment are spread over its holders, and a lost node's share is already loaded elsewhere. */
  replicas?: number;
  /** Rows per segment before it is sealed, flushed and indexed (MIGRANS_SEAL_ROWS). */
  sealRows?: number;
  /**
   * Largest segment compaction makes (MIGRANS_MAX_SEGMENT_BYTES). Bounded so that the indexer
   * Lambda builds one segment's HNSW well within its 15 minutes (256 MiB of 128-d vectors: ~3 min).
   */
  maxSegmentBytes?: number;
  /** Client authentication. */
  auth?: MigransAuthMode;
  /** 'retain' (default) keeps the bucket, tables, stream and token when the stack is deleted; 'destroy' is for dev stacks. */
  removalPolicy?: 'retain' | 'destroy';
  /** NAT gateways of the VPC (1 is cheapest, 2 is one per AZ). */
  natGateways?: number;
  /** The API Gateway flavour: 'rest' (REST API, $3.50/M requests; LocalStack's free tier) or 'http' (HTTP API, $1.00/M). */
  apiType?: MigransApiType;
  /** Concurrent executions reserved for the ingest function (0: none; the event source runs one per shard). */
  ingestReservedConcurrency?: number;
  /** Concurrent executions reserved for, and so the most of, the indexer (0: none): bounds parallel index builds. */
  indexerReservedConcurrency?: number;
  /** API Gateway stage throttling: steady requests per second. */
  apiRateLimit?: number;
  /** API Gateway stage throttling: burst. */
  apiBurstLimit?: number;
}

/** The defaults of MigransStackProps. */
export const MIGRANS_STACK_DEFAULTS = {
  shardCount: 2,
  onDemand: false,
  streamRetentionHours: 168,
  querynodes: 'fargate',
  querynodeCount: 2,
  querynodeSpot: false,
  architecture: 'x86_64',
  querynodeCpu: 1024,
  querynodeMemoryMiB: 4096,
  querynodeDiskGiB: 50,
  querynodePort: 19531,
  replicas: 1,
  sealRows: 100_000,
  maxSegmentBytes: 256 * 1024 * 1024,
  auth: 'token',
  removalPolicy: 'retain',
  natGateways: 1,
  apiType: 'rest',
  ingestReservedConcurrency: 0,
  indexerReservedConcurrency: 0,
  apiRateLimit: 1000,
  apiBurstLimit: 2000,
} as const satisfies Omit<Required<MigransStackProps>, keyof StackProps | 'querynodeMaxCount'>;

/** The serverless Migrans deployment. */
export class MigransStack extends Stack {
  /** Bucket, tables and stream. */
  readonly storage: MigransStorage;
  /** The API token's secret. */
  readonly tokenSecret: MigransTokenSecret;
  /** The role functions. */
  readonly functions: Readonly<Record<'api' | 'ingest' | 'indexer' | 'compactor', MigransFunction>>;
  /** The public API (a REST or an HTTP API, per `apiType`). */
  readonly api: MigransApiEndpoint;
  /** The Fargate querynodes (absent with `querynodes: 'external'`). */
  readonly querynodes?: QuerynodeService;

  constructor(scope: Construct, id: string, props: MigransStackProps = {}) {
    super(scope, id, props);
    const p = resolveProps(props);
    // Of the data and of the log groups alike: logs go with the stack unless it keeps its data.
    const removalPolicy = p.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.storage = new MigransStorage(this, 'Storage', {
      capacity: p.onDemand ? { onDemand: true } : { shardCount: p.shardCount },
      removalPolicy,
      retentionHours: p.streamRetentionHours,
    });
    const { bucket, table, walIndexTable, stream } = this.storage;
    this.tokenSecret = new MigransTokenSecret(this, 'Token', { removalPolicy });
    const secret = this.tokenSecret.secret;

    // The environment contract every role shares.
    const common: Record<string, string> = {
      [AWS_ENV.bucket]: bucket.bucketName,
      [AWS_ENV.table]: table.tableName,
      [AWS_ENV.walIndexTable]: walIndexTable.tableName,
      [AWS_ENV.stream]: stream.streamName,
      [SEAL_ROWS_ENV]: String(p.sealRows),
      [MAX_SEGMENT_BYTES_ENV]: String(p.maxSegmentBytes),
    };
    // The querynodes check the API token (lib/aws/api-token.ts), like the api function, which calls
    // them on their port with it; so the api function gets all of this too.
    const querynodeEnv = {
      ...common,
      [AWS_ENV.tokenSecretArn]: secret.secretArn,
      [AWS_ENV.querynodePort]: String(p.querynodePort),
      // The api function picks a segment's holder by the same count the querynodes load by.
      [AWS_ENV.replicas]: String(p.replicas),
    };

    const network = p.querynodes === 'fargate' ? new MigransNetwork(this, 'Network', { natGateways: p.natGateways }) : undefined;
    const apiSecurityGroup = network
      ? new ec2.SecurityGroup(this, 'ApiSecurityGroup', {
          vpc: network.vpc,
          description: 'Migrans api function (the only client of the querynodes)',
          allowAllOutbound: true,
        })
      : undefined;

    const indexer = new MigransFunction(this, 'Indexer', {
      role: 'indexer',
      architecture: p.architecture,
      environment: common,
      memorySize: 3008,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(10),
      logRemovalPolicy: removalPolicy,
      reservedConcurrentExecutions: p.indexerReservedConcurrency || undefined,
    });
    // api (after createIndex), ingest (after a flush) and the compactor (after a merge) hand segments
    // to the indexer (lib/aws/*-role.ts refuse to start without MIGRANS_INDEXER_FUNCTION).
    const withIndexer = { ...common, [AWS_ENV.indexerFunction]: indexer.fn.functionName };
    const ingest = new MigransFunction(this, 'Ingest', {
      role: 'ingest',
      architecture: p.architecture,
      environment: withIndexer,
      memorySize: 2048,
      timeout: Duration.minutes(5),
      ephemeralStorageSize: Size.gibibytes(2),
      logRemovalPolicy: removalPolicy,
      reservedConcurrentExecutions: p.ingestReservedConcurrency || undefined,
    });
    const compactor = new MigransFunction(this, 'Compactor', {
      role: 'compactor',
      architecture: p.architecture,
      environment: withIndexer,
      memorySize: 3008,
      timeout: Duration.minutes(10),
      ephemeralStorageSize: Size.gibibytes(10),
      logRemovalPolicy: removalPolicy,
    });
    const api = new MigransFunction(this, 'Api', {
      role: 'api',
      architecture: p.architecture,
      environment: { ...querynodeEnv, ...withIndexer },
      memorySize: 1769, // one full vCPU: JSON parsing and the top-k reduce are CPU-bound
      timeout: Duration.seconds(29), // API Gateway's integration timeout
      vpc: network?.vpc,
      vpcSubnets: network?.privateSubnets,
      securityGroups: apiSecurityGroup ? [apiSecurityGroup] : undefined,
      logRemovalPolicy: removalPolicy,
    });
    this.functions = { api, ingest, indexer, compactor };

    // api (proxy): validates, assigns timestamps, appends to the WAL, serves DDL from the catalog,
    // fans reads out to querynodes and hands segments to the indexer after createIndex; fetches output
    // fields of the global top-k from S3. It never reads the WAL itself (tail() is a DynamoDB read),
    // so it has no GetRecords.
    grantKvReadWrite(table, api.fn);
    grantKvReadWrite(walIndexTable, api.fn);
    grantWalAppend(stream, api.fn);
    bucket.grantRead(api.fn);
    secret.grantRead(api.fn);
    indexer.fn.grantInvoke(api.fn);

    // ingest (datanode): applies channels up to the end of each batch, writes chunks, the PK index and manifests,
    // then hands sealed segments to the indexer. Its scheduled sweep appends flush records to idle
    // channels (lib/aws/datanode.ts), so it also appends to the WAL.
    grantKvReadWrite(table, ingest.fn);
    grantKvReadWrite(walIndexTable, ingest.fn);
    grantWalRead(stream, ingest.fn);
    grantWalAppend(stream, ingest.fn);
    bucket.grantReadWrite(ingest.fn);
    indexer.fn.grantInvoke(ingest.fn);
    const ingestSource = new IngestEventSource(this, 'IngestEventSource', { stream, ingest: ingest.fn, removalPolicy });
    // The idle-channel sweep runs in the ingest function on its own schedule, not in the compactor:
    // a failing compactor must not leave acknowledged rows unflushed until they leave the stream.
    new events.Rule(this, 'IngestSweepSchedule', {
      description: "Migrans ingest: seal idle channels and publish each channel's checkpoint age",
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(ingest.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
    // Without sweeps no channel publishes an age, so their absence alarms on its own.
    new cloudwatch.Alarm(this, 'IdleSweepMissingAlarm', {
      alarmDescription:
        "Migrans: the ingest function's idle-channel sweep has not completed for 10 minutes; idle channels are not being sealed and no checkpoint age is published — check the ingest function's logs",
      metric: new cloudwatch.Metric({
        namespace: SWEEP_HEARTBEAT_METRIC.namespace,
        metricName: SWEEP_HEARTBEAT_METRIC.name,
        dimensionsMap: { Stream: stream.streamName },
        statistic: 'Sum',
        period: Duration.minutes(10),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // One alarm over every channel (a multi-time-series Metrics Insights alarm: each channel is a
    // contributor, alarming on its own): a channel whose oldest unflushed record keeps ageing is
    // not being flushed, and its rows would leave the stream with its retention.
    new cloudwatch.CfnAlarm(this, 'CheckpointAgeAlarm', {
      alarmDescription: `Migrans: a channel has had acknowledged rows not flushed to S3 for over ${CHECKPOINT_AGE_ALARM_SECONDS / 3600} h (the ingest sweep seals a channel within an hour); its datanode is failing — check the ingest function's logs before the stream's retention runs out`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: CHECKPOINT_AGE_ALARM_SECONDS,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: 'notBreaching',
      metrics: [
        {
          id: 'checkpointAge',
          expression: Fn.join('', [
            `SELECT MAX(${CHECKPOINT_AGE_METRIC.name}) FROM SCHEMA("${CHECKPOINT_AGE_METRIC.namespace}", ${CHECKPOINT_AGE_METRIC.dimensions.join(', ')}) WHERE Stream = '`,
            stream.streamName,
            `' GROUP BY Channel ORDER BY MAX() DESC`,
          ]),
          period: 60,
          returnData: true,
        },
      ],
    });

    // indexer: segment chunks in, HNSW index files out; records the index in the catalog.
    grantKvReadWrite(table, indexer.fn);
    bucket.grantReadWrite(indexer.fn);
    const indexerFailures = encryptedFailureQueue(this, 'IndexerFailureQueue', removalPolicy);
    // A failed build is retried twice; after that the compactor's scan for unindexed segments picks it up.
    indexer.fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(indexerFailures) });

    // compactor: commits merges/rewrites through the WAL, so it both appends
    // to and reads the WAL; hands merged segments to the indexer.
    grantKvReadWrite(table, compactor.fn);
    grantKvReadWrite(walIndexTable, compactor.fn);
    grantWalAppend(stream, compactor.fn);
    grantWalRead(stream, compactor.fn);
    bucket.grantReadWrite(compactor.fn);
    indexer.fn.grantInvoke(compactor.fn);
    // Every minute; a tick that cannot run soon is dropped rather than queued (the next one does the work).
    compactor.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    new events.Rule(this, 'CompactorSchedule', {
      description: 'Migrans compactor: merge and purge segments',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(compactor.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    if (network && apiSecurityGroup) {
      this.querynodes = new QuerynodeService(this, 'Querynodes', {
        vpc: network.vpc,
        subnets: network.privateSubnets,
        minCount: p.querynodeCount,
        maxCount: p.querynodeMaxCount,
        targetCpuPercent: 60,
        cpu: p.querynodeCpu,
        memoryMiB: p.querynodeMemoryMiB,
        ephemeralStorageGiB: p.querynodeDiskGiB,
        port: p.querynodePort,
        clientSecurityGroup: apiSecurityGroup,
        environment: querynodeEnv,
        logRemovalPolicy: removalPolicy,
        architecture: p.architecture,
        spot: p.querynodeSpot,
      });
      grantQuerynode(this.querynodes.taskRole, this.storage, secret);
    }

    this.api = new (p.apiType === 'http' ? MigransHttpApi : MigransRestApi)(this, p.apiType === 'http' ? 'HttpApi' : 'RestApi', {
      handler: api.fn,
      rateLimit: p.apiRateLimit,
      burstLimit: p.apiBurstLimit,
      removalPolicy,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Milvus REST v2 base URL (append v2/vectordb/…)' });
    new CfnOutput(this, 'ApiId', { value: this.api.apiId, description: 'API id (LocalStack URLs use it)' });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'WalIndexTableName', { value: walIndexTable.tableName });
    new CfnOutput(this, 'StreamName', { value: stream.streamName });
    new CfnOutput(this, 'IndexerFunctionName', { value: indexer.fn.functionName });
    new CfnOutput(this, 'IngestFailureQueueUrl', { value: ingestSource.failureQueue.queueUrl });
    new CfnOutput(this, 'TokenSecretArn', { value: secret.secretArn });
    new CfnOutput(this, 'QuerynodeEnvironment', {
      value: this.toJsonString(querynodeEnv),
      description: 'The environment querynodes run with, as JSON (localstack/deploy.sh hands it to a local querynode)',
    });
    new CfnOutput(this, 'ReadTokenCommand', {
      value: `aws secretsmanager get-secret-value --region ${this.region} --secret-id ${secret.secretArn} --query SecretString --output text`,
      description: 'Prints the API token (send it as "Authorization: Bearer <token>")',
    });
  }
}

/**
 * querynode: registers in the registry (Kv table), tails the stream, loads segments, and appends the
 * deletes it resolves from a filter (the proxy forwards deletes by filter to it), so it commits WAL
 * positions too. It checks the API token on its internal port (the proxy calls it with that token).
 * It never writes the bucket.
 */
function grantQuerynode(role: iam.IRole, storage: MigransStorage, tokenSecret: secretsmanager.ISecret): void {
  grantKvReadWrite(storage.table, role);
  grantKvReadWrite(storage.walIndexTable, role);
  grantWalRead(storage.stream, role);
  grantWalAppend(storage.stream, role);
  storage.bucket.grantRead(role);
  tokenSecret.grantRead(role);
}

/** MigransStackProps with every default applied. */
export type ResolvedMigransProps = Required<Omit<MigransStackProps, keyof StackProps>>;

/** Applies MIGRANS_STACK_DEFAULTS and checks ranges, so a bad value fails at synth, not at deploy. */
export function resolveProps(props: MigransStackProps): ResolvedMigransProps {
  const d = MIGRANS_STACK_DEFAULTS;
  const int = (name: keyof MigransStackProps, value: number | undefined, fallback: number, min: number, max: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max) throw new StackPropsError(name, v, `MigransStack: ${name} must be an integer in [${min}, ${max}], got ${v}`);
    return v;
  };
  const querynodeCount = int('querynodeCount', props.querynodeCount, d.querynodeCount, 1, 100);
  const r: ResolvedMigransProps = {
    shardCount: int('shardCount', props.shardCount, d.shardCount, 1, 500),
    onDemand: props.onDemand ?? d.onDemand,
    streamRetentionHours: int('streamRetentionHours', props.streamRetentionHours, d.streamRetentionHours, 24, 8760),
    querynodes: props.querynodes ?? d.querynodes,
    querynodeCount,
    querynodeSpot: props.querynodeSpot ?? d.querynodeSpot,
    architecture: props.architecture ?? d.architecture,
    querynodeMaxCount: int('querynodeMaxCount', props.querynodeMaxCount, 2 * querynodeCount, querynodeCount, 200),
    querynodeCpu: int('querynodeCpu', props.querynodeCpu, d.querynodeCpu, 256, 16384),
    querynodeMemoryMiB: int('querynodeMemoryMiB', props.querynodeMemoryMiB, d.querynodeMemoryMiB, 512, 122880),
    querynodeDiskGiB: int('querynodeDiskGiB', props.querynodeDiskGiB, d.querynodeDiskGiB, 21, 200),
    querynodePort: int('querynodePort', props.querynodePort, d.querynodePort, 1024, 65535),
    replicas: int('replicas', props.replicas, d.replicas, 1, MAX_REPLICAS),
    sealRows: int('sealRows', props.sealRows, d.sealRows, 1, 100_000_000),
    maxSegmentBytes: int('maxSegmentBytes', props.maxSegmentBytes, d.maxSegmentBytes, 1024 * 1024, 1024 * 1024 * 1024),
    auth: props.auth ?? d.auth,
    removalPolicy: props.removalPolicy ?? d.removalPolicy,
    natGateways: int('natGateways', props.natGateways, d.natGateways, 1, 2),
    apiType: props.apiType ?? d.apiType,
    ingestReservedConcurrency: int('ingestReservedConcurrency', props.ingestReservedConcurrency, d.ingestReservedConcurrency, 0, 1000),
    indexerReservedConcurrency: int('indexerReservedConcurrency', props.indexerReservedConcurrency, d.indexerReservedConcurrency, 0, 1000),
    apiRateLimit: int('apiRateLimit', props.apiRateLimit, d.apiRateLimit, 1, 1_000_000),
    apiBurstLimit: int('apiBurstLimit', props.apiBurstLimit, d.apiBurstLimit, 1, 1_000_000),
  };
  if (r.querynodes !== 'fargate' && r.querynodes !== 'external')
    throw new StackPropsError('querynodes', r.querynodes, `MigransStack: querynodes must be 'fargate' or 'external', got ${String(r.querynodes)}`);
  if (r.apiType !== 'rest' && r.apiType !== 'http')
    throw new StackPropsError('apiType', r.apiType, `MigransStack: apiType must be 'rest' or 'http', got ${JSON.stringify(r.apiType)}`);
  if (r.auth !== 'token') throw new StackPropsError('auth', r.auth, `MigransStack: auth must be 'token' (the only mode), got ${String(r.auth)}`);
  if (r.removalPolicy !== 'retain' && r.removalPolicy !== 'destroy')
    throw new StackPropsError('removalPolicy', r.removalPolicy, `MigransStack: removalPolicy must be 'retain' or 'destroy', got ${String(r.removalPolicy)}`);
  if (!MIGRANS_ARCHITECTURES.includes(r.architecture))
    throw new StackPropsError('architecture', r.architecture, `MigransStack: architecture must be 'x86_64' or 'arm64', got ${JSON.stringify(r.architecture)}`);
  if (typeof r.querynodeSpot !== 'boolean')
    throw new StackPropsError('querynodeSpot', r.querynodeSpot, `MigransStack: querynodeSpot must be true or false, got ${JSON.stringify(r.querynodeSpot)}`);
  if (r.querynodeSpot && r.querynodes !== 'fargate')
    throw new StackPropsError(
      'querynodeSpot',
      r.querynodeSpot,
      `MigransStack: querynodeSpot needs querynodes 'fargate' (Spot is a Fargate capacity provider), got querynodes '${r.querynodes}'`,
    );
  // AWS: "Fargate Spot only supports Linux tasks with the X86_64 architecture."
  if (r.querynodeSpot && r.architecture === 'arm64')
    throw new StackPropsError(
      'querynodeSpot',
      r.querynodeSpot,
      "MigransStack: querynodeSpot needs architecture 'x86_64': Fargate Spot runs no ARM64 tasks; choose Spot (cheaper) or arm64, not both",
    );
  const memoryChoices = FARGATE_MEMORY_MIB[r.querynodeCpu];
  if (!memoryChoices)
    throw new StackPropsError(
      'querynodeCpu',
      r.querynodeCpu,
      `MigransStack: querynodeCpu must be a Fargate CPU value (${Object.keys(FARGATE_MEMORY_MIB).join(', ')}), got ${r.querynodeCpu}`,
    );
  if (!memoryChoices.includes(r.querynodeMemoryMiB))
    throw new StackPropsError(
      'querynodeMemoryMiB',
      r.querynodeMemoryMiB,
      `MigransStack: querynodeMemoryMiB ${r.querynodeMemoryMiB} is not a Fargate size for querynodeCpu ${r.querynodeCpu}: with ${r.querynodeCpu} CPU units memory must be ${describeFargateMemory(r.querynodeCpu)}`,
    );
  return r;
}
