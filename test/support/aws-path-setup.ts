/**
 * The whole AWS code path in one process on the emulators, for integration tests: the proxy behind
 * the API handler, Kinesis polled into one datanode per shard (as the event source mapping runs
 * them), the indexer in process, and querynodes on loopback ports.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { setAwsClientHook, type AwsClientHook } from '../../lib/adapters/aws/client-hook.ts';
import { DynamoDbKvStore } from '../../lib/adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../../lib/adapters/aws/kinesis-wal.ts';
import { ApiProxy } from '../../lib/aws/api-proxy.ts';
import { handleApiEvent } from '../../lib/aws/api-role.ts';
import type { AwsConfig } from '../../lib/aws/aws-config.ts';
import { Datanode } from '../../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../../lib/aws/indexer-trigger.ts';
import { ingestBatch } from '../../lib/aws/ingest-role.ts';
import { startKinesisPoller } from '../../lib/aws/kinesis-poller.ts';
import { startQuerynode, type QuerynodeOptions, type RunningQuerynode } from '../../lib/aws/querynode.ts';
import { openSharedStores, type SharedStores } from '../../lib/aws/shared-stores.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { EMULATOR_BUCKET, startEmulators } from './emulators.ts';

/** The token of the path's proxy and querynodes. */
export const PATH_TOKEN = 'test-token';

/** The roles of the path, each of whose AWS clients can get a hook of its own (e.g. a call counter). */
export type PathRole = 'proxy' | 'ingest' | 'indexer' | 'querynode';

/** A running AWS path. */
export interface AwsPath {
  proxy: ApiProxy;
  indexer: ReturnType<typeof inProcessIndexerTrigger>;
  /** Querynodes started through startQuerynode, in start order. */
  nodes: RunningQuerynode[];
  /** Opens a fresh set of shared store clients (closed with the path). */
  stores(): SharedStores;
  /** Starts a querynode with this id on a loopback port. */
  startQuerynode(id: string, options?: Partial<QuerynodeOptions>): Promise<RunningQuerynode>;
  /** Closes one querynode (it leaves the registry) and forgets it. */
  stopQuerynode(node: RunningQuerynode): Promise<void>;
  /** Stops everything, emulators included. */
  close(): Promise<void>;
}

/**
 * Starts the emulators, a fresh stream (`shards` shards) and tables, the proxy, the ingest path and
 * the given querynodes (`querynode`: options of every querynode started; `replicas`: holders of each sealed segment, for the proxy and every querynode;
 * `clientHooks`: a client hook (lib/adapters/aws/client-hook.ts) per role, applied to every AWS client that role's stores and poller create).
 */
export async function startAwsPath(
  engine: Partial<EngineConfig>,
  options: { shards?: number; querynodes?: string[]; replicas?: number; querynode?: Partial<QuerynodeOptions>; clientHooks?: Partial<Record<PathRole, AwsClientHook>> } = {},
): Promise<AwsPath> {
  const emulators = await startEmulators();
  const opened: { close(): Promise<void> }[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-aws-path-'));
  const suffix = Date.now().toString(36);
  const config: AwsConfig = {
    bucket: EMULATOR_BUCKET,
    table: `migrans-kv-${suffix}`,
    walIndexTable: `migrans-wal-${suffix}`,
    stream: `migrans-${suffix}`,
    querynodePort: 0,
    replicas: options.replicas ?? 1,
    engine,
  };
  const stores = (): SharedStores => {
    const s = openSharedStores(config);
    opened.push({ close: async () => void (await Promise.allSettled([s.kv.close(), s.wal.close()])) });
    return s;
  };
  // Clients are created synchronously when stores open (and when the poller starts), so a hook set around that call sees exactly that role's clients.
  const as = <T>(role: PathRole, open: () => T): T => {
    const hook = options.clientHooks?.[role];
    if (!hook) return open();
    const restore = setAwsClientHook(hook);
    try {
      return open();
    } finally {
      restore();
    }
  };
  const nodes: RunningQuerynode[] = [];
  let poller: Awaited<ReturnType<typeof startKinesisPoller>> | undefined;
  let proxy: ApiProxy | undefined;
  const close = async () => {
    await poller?.stop();
    for (const n of nodes) await n.close().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    for (const o of opened) await o.close();
    await emulators.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await DynamoDbKvStore.createTable(config.table);
    await KinesisWal.createResources({ streamName: config.stream, shardCount: options.shards ?? 2, indexTableName: config.walIndexTable });
    const indexer = inProcessIndexerTrigger(as('indexer', stores));
    proxy = await ApiProxy.open(as('proxy', stores), { token: PATH_TOKEN, config: engine, replicas: config.replicas, indexSegment: indexer.trigger });
    // One datanode per shard, as the event source runs one Lambda invocation per shard at a time.
    const datanodes = new Map<string, Promise<Datanode>>();
    const datanodeOf = (shard: string) => {
      if (!datanodes.has(shard))
        datanodes.set(
          shard,
          Datanode.open(as('ingest', stores), engine, indexer.trigger).then((d) => (opened.push(d), d)),
        );
      return datanodes.get(shard)!;
    };
    poller = await as('ingest', () =>
      startKinesisPoller({ streamName: config.stream, handle: async (batch, shard) => ingestBatch(await datanodeOf(shard), batch, Date.now() + 60_000) }),
    );
    const path_: AwsPath = {
      proxy,
      indexer,
      nodes,
      stores,
      async startQuerynode(id, extra = {}) {
        const node = await startQuerynode({
          stores: as('querynode', stores),
          dataDir: path.join(tmp, id),
          host: '127.0.0.1',
          port: 0,
          token: PATH_TOKEN,
          config: engine,
          id,
          replicas: config.replicas,
          ...options.querynode,
          ...extra,
        });
        nodes.push(node);
        return node;
      },
      async stopQuerynode(node) {
        nodes.splice(nodes.indexOf(node), 1);
        await node.close();
      },
      close,
    };
    for (const id of options.querynodes ?? []) await path_.startQuerynode(id);
    return path_;
  } catch (err) {
    await close();
    throw err;
  }
}

/** Calls the API handler in front of `proxy` as API Gateway does; returns the parsed Milvus reply. */
export async function callPath(proxy: ApiProxy, route: string, body: unknown, token = PATH_TOKEN): Promise<any> {
  const event = {
    httpMethod: 'POST',
    path: `/v2/vectordb/${route}`,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
  return JSON.parse((await handleApiEvent(proxy, event)).body);
}

/** The reply's data, after asserting it succeeded. */
export function okData(reply: any): any {
  assert.equal(reply.code, 0, JSON.stringify(reply));
  return reply.data;
}
