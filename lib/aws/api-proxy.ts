/**
 * The proxy on AWS (the API Lambda's role): the same REST v2 router over an EngineDatabase that
 * loads no segments and applies no channel. DDL goes to the shared catalog, writes to Kinesis (the
 * write is acknowledged once its records are committed to the WAL; each channel's appends go to the
 * querynode owning the channel, its sequencing point: owner-routed-wal.ts). Every read that needs the data
 * — get, query, search (and so hybrid search), collection and partition stats, index progress and
 * the keys a delete by filter hits — is the engine's distributed read
 * (lib/engine/read/distributed-read.ts) over one HTTP ShardClient per live querynode: each node
 * serves its rendezvous share of the segments for the replica number the read picked
 * (querynode-view.ts), the proxy reduces the shares and fetches the global page only; a node that does not answer leaves the view and the read runs
 * again on the others, which then serve its segments too. A request naming a collection this proxy does not
 * know reads the catalog again before it is refused: another container may have just created it.
 * A request's X-Request-Id goes with it to the querynodes, so their log lines share its requestId.
 */
import { CollectionNotFoundError, isEngineError } from '../engine/errors.ts';
import { proxyRole } from '../engine/roles/proxy.ts';
import { ErrorCode } from '../api/error-codes.ts';
import { errorBody, JSON_HEADERS } from '../api/response.ts';
import { REQUEST_ID_HEADER, handleRequest } from '../api/router.ts';
import type { ApiRequest, ApiResponse } from '../api/types.ts';
import type { SegmentMeta } from '../engine/catalog/catalog.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { QuerynodeRegistry, type QuerynodeEntry } from './querynode-registry.ts';
import { httpShardClient } from '../adapters/http/shard-client.ts';
import type { Database } from '../engine/database.ts';
import { DEFAULT_ENGINE_CONFIG } from '../engine/engine-config.ts';
import { distributedDatabase, type ShardSource } from '../engine/read/distributed-read.ts';
import { openRoleDatabase, type SharedStores } from './shared-stores.ts';
import { OwnerRoutedWal } from './owner-routed-wal.ts';
import { systemClock } from '../engine/ports/clock.ts';

/** How stale the proxy's view of the catalog and of the registry may be. */
const CACHE_MS = 500;

/** The proxy: routes REST v2 requests to the engine or to querynodes. */
export class ApiProxy {
  private nodes: { at: number; list: QuerynodeEntry[] } = { at: 0, list: [] };

  private constructor(
    readonly db: EngineDatabase,
    /** The proxy's WAL: appends go to each channel's owner querynode. */
    readonly wal: OwnerRoutedWal,
    private readonly defaultEf: number,
    private readonly registry: QuerynodeRegistry,
    private readonly token: string | undefined,
    private readonly querynodeToken: string,
    private readonly replicas: number,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the proxy; `indexSegment` hands segments to the indexer (after createIndex). Clients must
   * send `token` (undefined only for `npm run dev:aws` on loopback); querynodes are called with
   * `querynodeToken` (default: `token`). Each read picks one of `replicas` (default 1, the
   * querynodes' own setting) at random, spreading a segment's reads over its holders. Faults go to
   * `logger` (default: nowhere).
   */
  static async open(
    stores: SharedStores,
    options: {
      token: string | undefined;
      querynodeToken?: string;
      config?: Partial<EngineConfig>;
      replicas?: number;
      indexSegment: (meta: SegmentMeta) => void;
      logger?: Logger;
    },
  ): Promise<ApiProxy> {
    const querynodeToken = options.querynodeToken ?? options.token;
    if (!querynodeToken) throw new TypeError('ApiProxy needs a token for the querynodes (querynodeToken or token)');
    const registry = new QuerynodeRegistry(stores.kv);
    const built: { proxy?: ApiProxy } = {}; // the WAL shares the proxy's cached view of the registry once it exists
    const liveNodes = () => (built.proxy ? built.proxy.liveNodes() : registry.live());
    const wal = new OwnerRoutedWal(stores.wal, { kv: stores.kv, token: querynodeToken, clock: systemClock, liveNodes });
    const db = await openRoleDatabase({ ...stores, wal }, 'proxy', options.config, proxyRole(options.indexSegment), options.logger);
    const log = options.logger ?? NOOP_LOGGER;
    built.proxy = new ApiProxy(db, wal, { ...DEFAULT_ENGINE_CONFIG, ...options.config }.defaultSearchEf, registry, options.token, querynodeToken, options.replicas ?? 1, log);
    return built.proxy;
  }

  /** Answers one request; never throws. `logger` (default: the proxy's) has the request's id bound. */
  async handle(req: ApiRequest, logger: Logger = this.log): Promise<ApiResponse> {
    const db = this.distributed(req);
    try {
      await this.db.refreshCatalogIfOlder(CACHE_MS);
    } catch (err) {
      return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(ErrorCode.Unexpected, `reading the catalog failed: ${(err as Error).message}; retry`) };
    }
    const res = await handleRequest(db, req, { token: this.token, logger });
    if (!isEngineError(res.error, CollectionNotFoundError)) return res;
    // Another proxy container may have created it since this one's last look at the catalog: look
    // again before answering so (a request refused for it changed nothing, so it runs once more).
    try {
      await this.db.refreshCatalog();
    } catch {
      return res;
    }
    return handleRequest(db, req, { token: this.token, logger });
  }

  /** The proxy's Database with the reads that need data distributed over the live querynodes (HTTP shard clients). */
  private distributed(req: ApiRequest): Database {
    const requestId = Object.entries(req.headers).find(([k]) => k.toLowerCase() === REQUEST_ID_HEADER)?.[1];
    const headers: Record<string, string> = requestId ? { [REQUEST_ID_HEADER]: requestId } : {};
    const source: ShardSource = {
      shards: async () => (await this.liveNodes()).map((n) => httpShardClient(n.id, n.url, this.querynodeToken, { headers })),
      lost: () => {
        this.nodes.at = 0; // the registry is stale: re-read it on the next request
      },
      replicas: this.replicas,
      replica: () => Math.floor(Math.random() * this.replicas),
    };
    return distributedDatabase(this.db, source, this.defaultEf);
  }

  /** The live querynodes, as the registry showed them at most CACHE_MS ago. */
  async liveNodes(): Promise<QuerynodeEntry[]> {
    if (Date.now() - this.nodes.at > CACHE_MS) this.nodes = { at: Date.now(), list: await this.registry.live() };
    return this.nodes.list;
  }

  /** Closes the engine (not the shared stores). */
  close(): Promise<void> {
    return this.db.close();
  }
}
