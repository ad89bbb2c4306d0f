/**
 * The IAM grants the roles need beyond CDK's stock `grant*` helpers, named after what the adapters in
 * lib/adapters/aws do, so each role's policy reads as a list of capabilities.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';

/**
 * Read/write on a KvStore table. DynamoDbKvStore's versioned writes (`putIfNewer`, the PK index) go
 * through BatchExecuteStatement, whose PartiQL INSERT/UPDATE statements need their own actions.
 */
export function grantKvReadWrite(table: dynamodb.ITable, grantee: iam.IGrantable): void {
  table.grantReadWriteData(grantee);
  table.grant(grantee, 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate');
}

/** Appending to the WAL: KinesisWal lists shards (to pin channels to them) and puts records. */
export function grantWalAppend(stream: kinesis.IStream, grantee: iam.IGrantable): void {
  stream.grantWrite(grantee);
}

/**
 * Reading the WAL: KinesisWal positions a shard iterator at a sequence number taken from the index
 * table and reads from there. (Narrower than `grantRead`: no enhanced fan-out, no ListStreams.)
 */
export function grantWalRead(stream: kinesis.IStream, grantee: iam.IGrantable): void {
  stream.grant(grantee, 'kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords');
}
