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
import { Datanode } from '../../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../../lib/aws/indexer-trigger.ts';
import { ingestBatch } from '../../lib/aws/ingest-role.ts';
import { startKinesisPoller } from '../../lib/aws/kinesis-poller.ts';
import { startQuerynode, type QuerynodeOptions, type RunningQuerynode } from '../../lib/aws/querynode.ts';
import { openSharedStores, type SharedStores } from '../../lib/aws/shared-stores.ts';
import { holdersOf } from '../../lib/aws/querynode-view.ts';
import { segmentPlacementKey } from '../../lib/engine/segment-scope.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { freshEmulatorConfig, startEmulators } from './emulators.ts';

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
  /** Closes one querynode (it hands its share over unless `handover` is false, and leaves the registry) and forgets it. */
  stopQuerynode(node: RunningQuerynode, options?: { handover?: boolean }): Promise<void>;
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
  const config = freshEmulatorConfig(engine, options.replicas ?? 1);
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
    for (const n of nodes) await n.close({ handover: false }).catch(() => undefined);
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
    // Each with its own stores; its WAL takes the batch's records instead of reading them again.
    const datanodes = new Map<string, Promise<{ node: Datanode; wal: KinesisWal }>>();
    const datanodeOf = (shard: string) => {
      if (!datanodes.has(shard)) {
        const own = as('ingest', stores);
        datanodes.set(
          shard,
          Datanode.open(own, engine, indexer.trigger).then((node) => (opened.push(node), { node, wal: own.wal })),
        );
      }
      return datanodes.get(shard)!;
    };
    poller = await as('ingest', () =>
      startKinesisPoller({
        streamName: config.stream,
        handle: async (batch, shard) => {
          const { node, wal } = await datanodeOf(shard);
          return ingestBatch(node, batch, Date.now() + 60_000, undefined, { shard, wal });
        },
      }),
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
      async stopQuerynode(node, stop) {
        nodes.splice(nodes.indexOf(node), 1);
        await node.close(stop);
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

/** Each querynode's flushed segments of a collection, by placement key, with whether they are in memory. */
export async function residentSegments(nodes: readonly RunningQuerynode[], collection: string): Promise<Map<string, Map<string, boolean>>> {
  const out = new Map<string, Map<string, boolean>>();
  for (const node of nodes) {
    const info = await node.db.describeCollection('default', collection);
    const flushed = [...node.db.runtimeById(info.collectionId)!.segments.values()].filter((s) => s.meta.state === 'Flushed');
    out.set(node.id, new Map(flushed.map((s) => [segmentPlacementKey(s.meta), s.resident])));
  }
  return out;
}

/** Segments in memory where they should not be, or not where they should, under the holders of `replicas` over `fleet`. */
export async function misplacedSegments(nodes: readonly RunningQuerynode[], collection: string, fleet: string[], replicas: number): Promise<string[]> {
  const wrong: string[] = [];
  for (const [id, segments] of await residentSegments(nodes, collection))
    for (const [key, resident] of segments) if (resident !== holdersOf(key, fleet, replicas).includes(id)) wrong.push(`${id}: ${key} resident=${resident}`);
  return wrong;
}
