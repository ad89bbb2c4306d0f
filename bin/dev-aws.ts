/**
 * `npm run dev:aws`: the whole AWS code path on this machine, against the npm-installed emulators
 * (DynamoDB Local, kinesis-mock, s3rver; no Docker, no account). The API role behind a local HTTP
 * server on 127.0.0.1:19530, a poller feeding Kinesis batches to the ingest role as the event source
 * mapping does (one datanode per shard), the indexer in-process, the compactor every minute, and
 * two querynode processes. State lives in the emulators and is gone when it stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDbKvStore } from '../lib/adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../lib/adapters/aws/kinesis-wal.ts';
import { startServer } from '../lib/api/node-server.ts';
import { ApiProxy } from '../lib/aws/api-proxy.ts';
import { resolveAwsConfig } from '../lib/aws/aws-config.ts';
import { AWS_ENV } from '../lib/aws/aws-env.ts';
import { Compactor } from '../lib/aws/compactor.ts';
import { Datanode } from '../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../lib/aws/indexer-trigger.ts';
import { ingestBatch } from '../lib/aws/ingest-role.ts';
import { startKinesisPoller } from '../lib/aws/kinesis-poller.ts';
import { openSharedStores } from '../lib/aws/shared-stores.ts';
import { EMULATOR_BUCKET, startEmulators } from '../localstack/emulators.ts';

const port = Number(process.env.MIGRANS_PORT ?? 19530);
const token = process.env.MIGRANS_TOKEN || undefined;
const querynodeToken = token ?? crypto.randomBytes(16).toString('hex');

console.log('migrans dev:aws: starting DynamoDB Local, kinesis-mock and s3rver…');
const emulators = await startEmulators();
Object.assign(process.env, {
  [AWS_ENV.bucket]: EMULATOR_BUCKET,
  [AWS_ENV.table]: 'migrans-kv',
  [AWS_ENV.walIndexTable]: 'migrans-wal-index',
  [AWS_ENV.stream]: 'migrans-wal',
  [AWS_ENV.token]: querynodeToken,
});
const config = resolveAwsConfig();
await DynamoDbKvStore.createTable(config.table);
await KinesisWal.createResources({ streamName: config.stream, shardCount: 2, indexTableName: config.walIndexTable });

const indexer = inProcessIndexerTrigger(openSharedStores(config));
const datanodes = new Map<string, Promise<Datanode>>();
const poller = await startKinesisPoller({
  streamName: config.stream,
  handle: async (batch, shard) => {
    if (!datanodes.has(shard)) datanodes.set(shard, Datanode.open(openSharedStores(config), config.engine, indexer.trigger));
    return ingestBatch(await datanodes.get(shard)!, batch, Date.now() + 60_000);
  },
});
const compactor = await Compactor.open(openSharedStores(config), config.engine, indexer.trigger);
const compactions = setInterval(() => compactor.run().catch((err) => console.error('migrans dev:aws: compactor run failed:', err)), 60_000);

const querynodes: ChildProcess[] = [0, 1].map((i) =>
  spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'querynode.ts')], {
    env: { ...process.env, MIGRANS_HOST: '127.0.0.1', [AWS_ENV.querynodePort]: '0', MIGRANS_DATA_DIR: path.join(os.tmpdir(), `migrans-dev-querynode-${process.pid}-${i}`) },
    stdio: ['ignore', 'inherit', 'inherit'],
  }),
);

const proxy = await ApiProxy.open(openSharedStores(config), { token, querynodeToken, config: config.engine, indexSegment: indexer.trigger });
const server = await startServer({ db: proxy.db, handle: (req) => proxy.handle(req), host: '127.0.0.1', port });
console.log(`migrans dev:aws: the AWS code path listens on ${server.url} (Milvus REST v2${token ? ', token required' : ''})`);
console.log(`  try: curl -s -X POST ${server.url}/v2/vectordb/collections/list -H 'Content-Type: application/json' -d '{}'`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(compactions);
  for (const q of querynodes) q.kill('SIGTERM');
  await server.close();
  await poller.stop();
  await emulators.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
