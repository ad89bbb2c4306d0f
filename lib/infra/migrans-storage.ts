/**
 * The stateful half of the stack: the object store bucket, the two DynamoDB tables and the Kinesis
 * stream. Their logical ids are pinned (`overrideLogicalId`) so that refactoring the construct tree
 * can never make CloudFormation replace them, which would lose every collection.
 */
import { CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Logical ids of the stateful resources; tests assert them, and changing one replaces the resource. */
export const STATEFUL_LOGICAL_IDS = {
  bucket: 'MigransBucket',
  table: 'MigransKvTable',
  walIndexTable: 'MigransWalIndexTable',
  stream: 'MigransWalStream',
} as const;

/** How the Kinesis stream is sized. */
export type StreamCapacity = { onDemand: true } | { onDemand?: false; shardCount: number };

/** Props of MigransStorage. */
export interface MigransStorageProps {
  /** Provisioned shard count, or on-demand. */
  capacity: StreamCapacity;
  /** RETAIN keeps data when the stack is deleted (production); DESTROY empties and deletes it (dev). */
  removalPolicy: RemovalPolicy;
  /** How long the stream keeps records (hours, 24–8760). */
  retentionHours: number;
}

/** Bucket, tables and stream: everything that holds data. */
export class MigransStorage extends Construct {
  /** Segment chunks, delta logs and index files (the ObjectStore port). */
  readonly bucket: s3.Bucket;
  /** Catalog, PK index and querynode registry (the KvStore port): `p` S / `s` S. */
  readonly table: dynamodb.Table;
  /** The Kinesis WAL's channel heads and position index: `p` S / `s` N. */
  readonly walIndexTable: dynamodb.Table;
  /** Every channel's write-ahead log (the Wal port). */
  readonly stream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: MigransStorageProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Segments are immutable and superseded ones are deleted by compaction: versions would only
      // keep garbage (and its cost) around.
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    pinLogicalId(this.bucket, STATEFUL_LOGICAL_IDS.bucket);

    this.table = new dynamodb.Table(this, 'Kv', {
      partitionKey: { name: 'p', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 's', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The PK index is the source of truth for which row is live: it must be restorable.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
    });
    pinLogicalId(this.table, STATEFUL_LOGICAL_IDS.table);

    this.walIndexTable = new dynamodb.Table(this, 'WalIndex', {
      partitionKey: { name: 'p', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 's', type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
    });
    pinLogicalId(this.walIndexTable, STATEFUL_LOGICAL_IDS.walIndexTable);

    this.stream = new kinesis.Stream(this, 'Wal', {
      ...(props.capacity.onDemand ? { streamMode: kinesis.StreamMode.ON_DEMAND } : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: props.capacity.shardCount }),
      encryption: kinesis.StreamEncryption.MANAGED,
      // The WAL must outlive any checkpoint lag: records not yet covered by a flushed segment are
      // only in the stream, so a consumer stuck that long must still find them.
      retentionPeriod: Duration.hours(props.retentionHours),
      removalPolicy: props.removalPolicy,
    });
    pinLogicalId(this.stream, STATEFUL_LOGICAL_IDS.stream);
  }
}

/** Gives a construct's CloudFormation resource a fixed logical id, independent of the tree path. */
export function pinLogicalId(construct: Construct, logicalId: string): void {
  (construct.node.defaultChild as CfnResource).overrideLogicalId(logicalId);
}
