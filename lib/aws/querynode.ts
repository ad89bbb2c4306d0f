/**
 * A querynode: a read replica of the deployment's collections, serving the Milvus REST v2 router
 * over an internal HTTP port to the proxy (API Lambda).
 *
 * It starts from the shared state (checkpoints first, then segment metadata, so no record falls in
 * between), loads the flushed segments and the indexer's index files from S3 through a local disk
 * cache, seeds a private PK index from them, and then applies every channel's WAL records itself, in
 * order, into private stores (local LMDB and files): the same deterministic apply as the datanode,
 * so growing data, overwrites and deletes are exact and it knows its tSafe. The segments it seals
 * that way hold the same rows as the datanode's, so it attaches the indexer's files to them too
 * rather than building its own. Consistency waits learn
 * the WAL tails first, so Strong reads see every acknowledged write. Its private state is a cache:
 * it is wiped at every start and rebuilt from the shared state.
 *
 * A shard-protocol request on the internal route (the proxy's fan-out) is served from this node's
 * share of the segments under the request's view (querynode-view.ts). A view without this node's id means the proxy took this
 * address for another node (a restart under a new id): the node refuses with HTTP 409 rather than
 * serve nothing, so the proxy drops it from the view and re-reads the registry instead of
 * silently losing the share that the id it believed in would have served.
 *
 * `GET /metrics` (with the token) is the node's Prometheus text: requests per route, WAL bytes read,
 * segments served and resident, sealed bytes in memory, local disk bytes, tSafe lag.
 * `GET /readyz` (no token: it reveals no data) answers 200 once the node is registered, so serving
 * its share, and 503 while it bootstraps or after an apply error stops it: the ECS health check.
 *
 * Memory follows the share: the node keeps the vectors and indexes of the flushed segments it holds
 * (it is one of each such segment's `replicas` holders, querynode-view.ts) under the live registry,
 * and leaves the others' in S3 until a search's view hands them to it (a node gone), releasing them
 * again when idle; outside its share, segments it sealed itself read the datanode's copy of their
 * rows and their own is deleted.
 *
 * It joins the read set with its share in memory (loaded at open, before it registers), and leaves
 * it the same way: `close` (SIGTERM: a rolling deploy or a scale-in) first marks it draining in the
 * registry, so the others hold its segments as if it were gone and load them while it still serves
 * them, and it leaves once each reports its memory follows the fleet without it (at most 20 s).
 * A node that dies without leaving has its share loaded inside the reads that need it.
 */
import { querynodeRole } from '../engine/roles/querynode.ts';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileObjectStore } from '../adapters/local/file-object-store.ts';
import { LmdbKvStore } from '../adapters/local/lmdb-kv-store.ts';
import { OverlayObjectStore } from '../adapters/local/overlay-object-store.ts';
import { UsearchIndexFactory } from '../adapters/vector/usearch-index-factory.ts';
import { ErrorCode } from '../api/error-codes.ts';
import { startServer } from '../api/node-server.ts';
import { READY_ROUTE } from '../api/health.ts';
import { errorBody, JSON_HEADERS } from '../api/response.ts';
import { handleRequest } from '../api/router.ts';
import type { ApiRequest, ApiResponse } from '../api/types.ts';
import { Catalog, type SegmentMeta } from '../engine/catalog/catalog.ts';
import { channelName } from '../engine/channel-state.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import { EngineDatabase } from '../engine/engine-database.ts';
import { CollectionDamagedError, CollectionNotFoundError, CollectionNotLoadedError, isEngineError, WalTruncatedError } from '../engine/errors.ts';
import type { ShardClient } from '../engine/ports/shard-client.ts';
import { localShardClient } from '../engine/read/local-shard-client.ts';
import { decodeShardRequest, encodeShardError, encodeShardMessage, type ShardRequest } from '../engine/read/shard-protocol.ts';
import { SHARD_ROUTE } from '../adapters/http/shard-client.ts';
import { isAuthorized } from '../api/auth.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { segmentPlacementKey } from '../engine/segment-scope.ts';
import type { CollectionInfo } from '../engine/schema/types.ts';
import { HEARTBEAT_MS, holdingFleet, QuerynodeRegistry, type QuerynodeEntry } from './querynode-registry.ts';
import { ChannelLeases } from './channel-leases.ts';
import { CHANNEL_HEADER, WAL_APPEND_ROUTE, decodeAppend } from './wal-append-protocol.ts';
import type { Wal } from '../engine/ports/wal.ts';
import type { Counter } from '../engine/ports/metrics.ts';
import { systemClock } from '../engine/ports/clock.ts';
import { holdersOf, viewScope } from './querynode-view.ts';
import { SharedWalView } from './shared-wal-view.ts';
import type { SharedStores } from './shared-stores.ts';
import { FolderLocalFiles } from '../adapters/local/local-files.ts';
import { directoryBytes } from '../adapters/local/directory-bytes.ts';
import { meteredWal } from '../adapters/metrics/metered-wal.ts';
import { PrometheusMetrics } from '../adapters/metrics/prometheus-metrics.ts';
import { registerEngineGauges } from '../api/engine-gauges.ts';
import { withRequestMetrics } from '../api/request-metrics.ts';

/** Ids of segments a querynode creates itself start here, far above the shared catalog's. */
const PRIVATE_ID_BASE = 1e12;
/** Refusals that may only mean this node has not seen a recent DDL yet: collection not found, not loaded, or damaged when it last looked. */
const STALE_CATALOG = [CollectionNotFoundError, CollectionNotLoadedError, CollectionDamagedError];
/** How often the querynode polls the WAL tails and the catalog. */
const FOLLOW_MS = 100;
/** How often the querynode checks its channels for an error it cannot recover from. */
const FATAL_CHECK_MS = 1000;
/**
 * How long a segment outside this node's share stays in memory after a read last needed it: a
 * proxy's cached view can lag the registry by a few seconds, and a node that just left may return.
 */
const RELEASE_IDLE_MS = 30_000;
/** How long a stopping querynode waits for the others to take its share in: inside ECS's 30 s stop timeout (lib/infra/querynode-service.ts). */
const HANDOVER_MS = 20_000;
/** How often a stopping querynode reads the registry while it waits. */
const HANDOVER_POLL_MS = 250;

/** How to run a querynode. */
export interface QuerynodeOptions {
  stores: SharedStores;
  /** Private state (wiped at start). */
  dataDir: string;
  host: string;
  port: number;
  /** Address other processes reach it at (default: host, or the first non-internal IPv4 when host is 0.0.0.0). */
  address?: string;
  /** Token every request must carry (the deployment's API token). */
  token: string;
  config?: Partial<EngineConfig>;
  /** Querynodes that hold each sealed segment (the deployment's `replicas`, default 1): this node keeps resident the segments it is one of the holders of. */
  replicas?: number;
  /** Ids must not contain commas (views list them comma-separated). Default: a random UUID. */
  id?: string;
  /** How long a segment outside this node's share stays in memory after a read last needed it (ms). */
  releaseIdleMs?: number;
  /** How long `close` waits, at most, for the other querynodes to take this node's share in (ms). */
  handoverMs?: number;
  /** Where faults are logged, with `querynode` (its id) bound (default: nowhere). */
  logger?: Logger;
  /**
   * Called (once) when the node cannot catch up any more: a channel's next record was truncated
   * from the WAL. Only a fresh bootstrap from the shared state recovers; the container main exits
   * so that the orchestrator restarts it.
   */
  onFatal?: (err: Error) => void;
}

/** A running querynode. */
export interface RunningQuerynode {
  id: string;
  url: string;
  db: EngineDatabase;
  /**
   * Hands its share over (unless `handover` is false: the others then load it when they next read
   * the registry), leaves the registry and stops.
   */
  close(options?: { handover?: boolean }): Promise<void>;
}

/** Copies what opening a collection needs from the shared catalog into the private one. */
async function copyCollection(shared: Catalog, own: Catalog, info: CollectionInfo): Promise<void> {
  const ops = [own.putCollectionOp(info)];
  for (let i = 0; i < info.shardsNum; i++) {
    const ch = channelName(info.collectionId, i);
    ops.push(own.putCheckpointOp(ch, await shared.getCheckpoint(ch)));
  }
  for (const meta of await shared.listSegments(info.collectionId)) {
    if (meta.state !== 'Dropped' || meta.endPosition !== undefined) ops.push(own.putSegmentOp(meta));
  }
  await own.write(ops);
}

/**
 * The error that keeps a channel from catching up, if any: its next record was truncated from the
 * WAL (a datanode checkpoint passed it while this node lagged), which retrying never fixes.
 */
export function unrecoverableApplyError(db: EngineDatabase): Error | undefined {
  for (const { channel, error } of db.applyErrors()) {
    if (isEngineError(error, WalTruncatedError)) {
      return new Error(`querynode cannot catch up on channel ${channel}: ${error.message}; restart it so that it bootstraps from the shared state`, { cause: error });
    }
  }
  return undefined;
}

/**
 * The shared segment with the same rows as this node's `meta`: flushed, with the same placement key
 * (channel, partition and start position, or the compaction output's id), end position and row
 * count — the same WAL records applied in the same order. The indexer's files fit it.
 */
async function sharedTwin(shared: Catalog, meta: SegmentMeta): Promise<SegmentMeta | undefined> {
  const key = segmentPlacementKey(meta);
  return (await shared.listSegments(meta.collectionId)).find(
    (m) => m.state === 'Flushed' && m.rowCount === meta.rowCount && m.endPosition === meta.endPosition && segmentPlacementKey(m) === key,
  );
}

/** The fleet whose holders this node's memory follows: the live querynodes that are not draining, this one included (it may not have registered yet). */
function holdersFleet(entries: QuerynodeEntry[], self: string): string[] {
  const ids = holdingFleet(entries);
  return ids.includes(self) ? ids : [...ids, self].sort();
}

/** Whether two sorted id lists are the same. */
const sameIds = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Waits until every live querynode that holds segments (all but the draining ones, this one among
 * them) reports its memory follows that fleet: they have taken this node's share in. False after `ms`.
 */
async function awaitHandover(registry: QuerynodeRegistry, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const entries = await registry.live();
    const holders = holdingFleet(entries);
    if (entries.every((e) => e.draining || sameIds(e.residentFor, holders))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(HANDOVER_POLL_MS);
  }
}

/** Whether an error may only mean this node has not seen a recent DDL yet. */
function staleCatalog(err: unknown): boolean {
  return isEngineError(err, CollectionNotFoundError) || isEngineError(err, CollectionNotLoadedError);
}

/**
 * Serves one shard-protocol request (the proxy's distributed read) from this node's share under
 * the request's view and replica number: 409 when the view does not name this node, an engine error as the
 * protocol's error answer. A collection this node does not know yet reads the catalog again first.
 */
async function serveShard(req: ApiRequest, token: string, id: string, db: EngineDatabase, shard: ShardClient): Promise<ApiResponse> {
  const answer = (status: number, body: string): ApiResponse => ({ status, headers: { ...JSON_HEADERS }, body });
  if (req.method.toUpperCase() !== 'POST' || !isAuthorized(headerOf(req, 'authorization'), token))
    return answer(401, errorBody(ErrorCode.NotAuthenticated, "user hasn't authenticated"));
  let request: ShardRequest;
  try {
    request = decodeShardRequest(typeof req.body === 'string' ? req.body : req.body.toString('utf8'));
  } catch (err) {
    return answer(400, encodeShardError(err));
  }
  if (!request.view.includes(id)) {
    const message = `querynode ${id} at this address is not in the read's view [${request.view.join(', ')}]: the proxy's registry is stale; it drops this node and retries`;
    return answer(409, errorBody(ErrorCode.Unexpected, message));
  }
  const run = async (): Promise<string> => {
    switch (request.kind) {
      case 'search':
        return encodeShardMessage(await shard.search(request));
      case 'query':
        return encodeShardMessage(await shard.query(request));
      case 'fetch':
        return encodeShardMessage(await shard.fetch(request));
      case 'stats':
        return encodeShardMessage(await shard.stats(request));
      case 'indexes':
        return encodeShardMessage(await shard.indexes(request));
    }
  };
  try {
    try {
      return answer(200, await run());
    } catch (err) {
      if (!staleCatalog(err)) throw err;
      await db.refreshCatalog();
      return answer(200, await run());
    }
  } catch (err) {
    return answer(200, encodeShardError(err));
  }
}

/** The querynode's answer on READY_ROUTE (the ECS health check, no token): 200 once it serves its share, 503 before and after a fatal apply error. */
function readiness(ready: boolean, why: string): ApiResponse {
  return { status: ready ? 200 : 503, headers: { ...JSON_HEADERS }, body: JSON.stringify(ready ? { status: 'ready' } : { status: 'unavailable', reason: why }) };
}

/**
 * Appends a proxy's records to a channel this node owns (its sequencing point): 409 when it does not
 * hold the channel's lease (the proxy then appends directly), an engine error as the shard
 * protocol's error answer.
 */
async function serveAppend(req: ApiRequest, token: string, leases: ChannelLeases, wal: Wal, appends: Counter): Promise<ApiResponse> {
  const answer = (status: number, body: string): ApiResponse => ({ status, headers: { ...JSON_HEADERS }, body });
  if (req.method.toUpperCase() !== 'POST' || !isAuthorized(headerOf(req, 'authorization'), token))
    return answer(401, errorBody(ErrorCode.NotAuthenticated, "user hasn't authenticated"));
  const channel = headerOf(req, CHANNEL_HEADER) ?? '';
  if (!leases.owned().has(channel)) return answer(409, errorBody(ErrorCode.Unexpected, `this querynode does not own channel ${JSON.stringify(channel)}; append directly`));
  let records: Uint8Array[];
  try {
    records = decodeAppend(typeof req.body === 'string' ? Buffer.from(req.body, 'latin1') : req.body);
  } catch (err) {
    return answer(400, encodeShardError(err));
  }
  try {
    const position = await wal.append(channel, records);
    appends.inc();
    return answer(200, JSON.stringify({ position: position.toString() }));
  } catch (err) {
    return answer(200, encodeShardError(err));
  }
}

/** A lower-cased header of a request. */
function headerOf(req: ApiRequest, name: string): string | undefined {
  return Object.entries(req.headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

function defaultAddress(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Starts a querynode: bootstraps, serves, and heartbeats into the registry. */
export async function startQuerynode(options: QuerynodeOptions): Promise<RunningQuerynode> {
  const id = options.id ?? crypto.randomUUID();
  const log = (options.logger ?? NOOP_LOGGER).child({ querynode: id });
  fs.rmSync(options.dataDir, { recursive: true, force: true });
  fs.mkdirSync(options.dataDir, { recursive: true });
  const kv = await LmdbKvStore.open(path.join(options.dataDir, 'kv'));
  const own = new Catalog(kv);
  await own.reserveIdsFrom(PRIVATE_ID_BASE);
  const shared = new Catalog(options.stores.kv);
  const registry = new QuerynodeRegistry(options.stores.kv);
  // The holders' fleet as the registry shows it; this node keeps the flushed segments it holds under it.
  let fleet = holdersFleet(await registry.live(), id);
  const replicas = options.replicas ?? 1;
  const resident = (meta: SegmentMeta) => holdersOf(segmentPlacementKey(meta), fleet, replicas).includes(id);
  const metrics = new PrometheusMetrics({ querynode: id });
  const db = await EngineDatabase.open({
    kv,
    wal: meteredWal(new SharedWalView(options.stores.wal), metrics),
    objects: new OverlayObjectStore(new FileObjectStore(path.join(options.dataDir, 'objects')), options.stores.objects),
    vectorIndexes: new UsearchIndexFactory(),
    localFiles: new FolderLocalFiles(path.join(options.dataDir, 'cache')),
    config: options.config,
    followMs: FOLLOW_MS,
    role: querynodeRole(resident, (meta) => sharedTwin(shared, meta)),
    catalogSource: shared,
    beforeOpen: (info) => copyCollection(shared, own, info),
    logger: log,
  });
  const token = options.token;
  const shard = localShardClient(id, db, (placement) => viewScope(placement, id));
  let registered = false;
  let fatal = false;
  registerEngineGauges(metrics, db, () => directoryBytes(options.dataDir));
  // Channel ownership: the node holds the leases of the channels it is preferred for and sequences
  // their appends (the proxies send them here); every querynode still applies every channel itself.
  const leases = new ChannelLeases(options.stores.kv, id, systemClock);
  metrics.gauge('migrans_owned_channels', 'Channels whose owner lease this querynode holds', [], () => [{ value: leases.owned().size }]);
  const appends = metrics.counter('migrans_wal_appends_sequenced_total', 'Appends this querynode sequenced as the owner of their channel');
  const handle = async (req: ApiRequest, logger: Logger): Promise<ApiResponse> => {
    const route = req.path.split('?')[0];
    if (route === SHARD_ROUTE) return serveShard(req, token, id, db, shard);
    if (route === WAL_APPEND_ROUTE) return serveAppend(req, token, leases, options.stores.wal, appends);
    if (route === READY_ROUTE) return readiness(registered && !fatal, registered ? 'an apply error stops this querynode' : 'bootstrapping');
    const res = await handleRequest(db, req, { token, logger });
    // A collection created or loaded moments ago may be newer than this node's catalog poll.
    if (!STALE_CATALOG.some((type) => isEngineError(res.error, type))) return res;
    await db.refreshCatalog();
    return handleRequest(db, req, { token, logger });
  };
  const server = await startServer({
    db,
    handle: withRequestMetrics(handle, metrics, [SHARD_ROUTE, WAL_APPEND_ROUTE]),
    host: options.host,
    port: options.port,
    token,
    logger: log,
    publicPaths: new Set([READY_ROUTE]),
  });
  const url = `http://${options.address ?? defaultAddress(options.host)}:${server.port}`;
  // What the heartbeat says: whether this node is stopping, and the fleet its memory follows (its
  // share was loaded at open, before it registers: it joins the read set with it in memory).
  const state: { draining: boolean; residentFor: string[] } = { draining: false, residentFor: fleet };
  const beat = () => registry.heartbeat(id, url, state);
  await beat();
  registered = true;
  const releaseIdleMs = options.releaseIdleMs ?? RELEASE_IDLE_MS;
  const timer = setInterval(() => beat().catch((error) => log.warn('querynode: heartbeat failed', { error })), HEARTBEAT_MS);
  timer.unref();
  // Residency runs on its own clock: loading or releasing segments must never delay a heartbeat.
  let updating: Promise<void> | undefined;
  const residencyTimer = setInterval(() => {
    updating ??= registry
      .live()
      .then(async (entries) => {
        // A stopping node keeps what it holds until it leaves, and no longer takes channels.
        if (state.draining) return;
        const next = holdersFleet(entries, id);
        fleet = next;
        await leases.maintain(db.appliedChannels(), fleet);
        await db.applyResidency(releaseIdleMs);
        if (!sameIds(state.residentFor, next)) {
          state.residentFor = next;
          await beat();
        }
      })
      .catch((error) => log.warn('querynode: updating which segments stay in memory failed (retrying)', { error }))
      .finally(() => (updating = undefined));
  }, HEARTBEAT_MS);
  residencyTimer.unref();
  const fatalTimer = setInterval(() => {
    const err = fatal ? undefined : unrecoverableApplyError(db);
    if (!err) return;
    fatal = true;
    options.onFatal?.(err);
  }, FATAL_CHECK_MS);
  fatalTimer.unref();
  return {
    id,
    url,
    db,
    async close({ handover = true } = {}) {
      if (handover) {
        state.draining = true;
        await updating;
        try {
          await beat();
          if (!(await awaitHandover(registry, options.handoverMs ?? HANDOVER_MS)))
            log.warn('querynode: leaving before every other querynode took its share in; they load it inside reads', { waitedMs: options.handoverMs ?? HANDOVER_MS });
        } catch (error) {
          log.warn('querynode: handing the share over failed; the others load it inside reads', { error });
        }
      }
      clearInterval(timer);
      clearInterval(residencyTimer);
      clearInterval(fatalTimer);
      await updating;
      await Promise.all([...leases.owned()].map((ch) => leases.release(ch).catch(() => undefined)));
      await registry.leave(id).catch(() => undefined);
      await server.close();
      await db.close();
    },
  };
}
