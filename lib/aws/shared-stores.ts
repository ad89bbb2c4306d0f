/** The AWS adapters every role shares: S3 objects, the DynamoDB catalog/PK index, the Kinesis WAL. */
import { DynamoDbKvStore } from '../adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../adapters/aws/kinesis-wal.ts';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.ts';
import type { AwsConfig } from './aws-config.ts';

/** The shared stores of one deployment. */
export interface SharedStores {
  kv: DynamoDbKvStore;
  wal: KinesisWal;
  objects: S3ObjectStore;
}

/** Opens the deployment's stores with clients from the environment (endpoints, region, credentials). */
export function openSharedStores(config: AwsConfig): SharedStores {
  return {
    kv: new DynamoDbKvStore({ tableName: config.table }),
    wal: new KinesisWal({ streamName: config.stream, indexTableName: config.walIndexTable }),
    objects: new S3ObjectStore({ bucket: config.bucket }),
  };
}
