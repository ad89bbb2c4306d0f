/** The AWS adapters every role shares: S3 objects, the DynamoDB catalog/PK index, the Kinesis WAL. */
import { DynamoDbKvStore } from '../adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../adapters/aws/kinesis-wal.ts';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.ts';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsearchIndexFactory } from '../adapters/vector/usearch-index-factory.ts';
import type { CollectionRole } from '../engine/roles/collection-role.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import { EngineDatabase } from '../engine/engine-database.ts';
import type { KvStore } from '../engine/ports/kv-store.ts';
import type { Logger } from '../engine/ports/logger.ts';
import type { ObjectStore } from '../engine/ports/object-store.ts';
import type { Wal } from '../engine/ports/wal.ts';
import type { AwsConfig } from './aws-config.ts';
import { DeferredTruncateWal } from './deferred-truncate-wal.ts';
import { FolderLocalFiles } from '../adapters/local/local-files.ts';

/** The ports a role runs on (the shared stores, or wrappers and memory adapters in tests). */
export interface RoleStores {
  kv: KvStore;
  wal: Wal;
  objects: ObjectStore;
}

/** The shared stores of one deployment. */
export interface SharedStores extends RoleStores {
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

/**
 * An EngineDatabase over the shared stores playing `role` (proxy, datanode, compactor), with no
 * maintenance timers: the datanodes' scheduled sweep seals idle channels, the compactor compacts. WAL truncations
 * wait an hour, so querynodes behind the checkpoint can still read what they need. `name` names its
 * scratch directory under the temp dir (Lambda's only writable place); `logger` gets its faults.
 */
export function openRoleDatabase(stores: RoleStores, name: string, config: Partial<EngineConfig> | undefined, role: CollectionRole, logger?: Logger): Promise<EngineDatabase> {
  return EngineDatabase.open({
    kv: stores.kv,
    wal: new DeferredTruncateWal(stores.wal),
    objects: stores.objects,
    vectorIndexes: new UsearchIndexFactory(),
    localFiles: new FolderLocalFiles(path.join(os.tmpdir(), `migrans-${name}`)),
    config,
    maintain: false,
    role,
    logger,
  });
}
