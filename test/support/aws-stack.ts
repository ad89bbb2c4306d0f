/**
 * The AWS deployment's shared resources alone on the emulators, for tests that run the roles
 * themselves (in child processes, or with no poller so that they control every Kinesis delivery):
 * DynamoDB Local, kinesis-mock and s3rver started, a fresh table, WAL index table and stream, and
 * the environment a role process reads them from. aws-path-setup.ts starts the whole path instead.
 */
import { DynamoDbKvStore } from '../../lib/adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../../lib/adapters/aws/kinesis-wal.ts';
import type { AwsConfig } from '../../lib/aws/aws-config.ts';
import { AWS_ENV } from '../../lib/aws/aws-env.ts';
import { openSharedStores, type SharedStores } from '../../lib/aws/shared-stores.ts';
import { ENGINE_ENV } from '../../lib/config.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { PATH_TOKEN } from './aws-path-setup.ts';
import { freshEmulatorConfig, startEmulators, type Emulators } from './emulators.ts';

/** A deployment's shared resources on running emulators. */
export interface AwsStack {
  emulators: Emulators;
  config: AwsConfig;
  /** The environment a role started as a child process needs: emulator endpoints, MIGRANS_* names and engine knobs. */
  env: Record<string, string>;
  /** Opens a fresh set of the shared store clients, closed with the stack. */
  stores(): SharedStores;
  /** Closes every store opened through stores() and stops the emulators. */
  close(): Promise<void>;
}

/** Starts the emulators and creates the deployment's table, WAL index table and stream (`shards` shards). */
export async function startAwsStack(engine: Partial<EngineConfig>, options: { shards?: number } = {}): Promise<AwsStack> {
  const emulators = await startEmulators();
  const opened: SharedStores[] = [];
  try {
    const config = freshEmulatorConfig(engine);
    await DynamoDbKvStore.createTable(config.table);
    await KinesisWal.createResources({ streamName: config.stream, shardCount: options.shards ?? 2, indexTableName: config.walIndexTable });
    const env: Record<string, string> = {
      ...emulators.env,
      [AWS_ENV.bucket]: config.bucket,
      [AWS_ENV.table]: config.table,
      [AWS_ENV.walIndexTable]: config.walIndexTable,
      [AWS_ENV.stream]: config.stream,
      [AWS_ENV.token]: PATH_TOKEN, // what the API handler in front of the proxy sends (callPath)
    };
    for (const [name, key] of Object.entries(ENGINE_ENV)) if (engine[key] !== undefined) env[name] = String(engine[key]);
    return {
      emulators,
      config,
      env,
      stores() {
        const s = openSharedStores(config);
        opened.push(s);
        return s;
      },
      async close() {
        await Promise.allSettled(opened.flatMap((s) => [s.kv.close(), s.wal.close()]));
        await emulators.stop();
      },
    };
  } catch (err) {
    await emulators.stop();
    throw err;
  }
}
