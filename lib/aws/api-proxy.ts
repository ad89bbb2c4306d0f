/**
 * The proxy on AWS (the API Lambda's role): the same REST v2 router over an EngineDatabase that
 * loads no segments and applies no channel. DDL goes to the shared catalog, writes to Kinesis (the
 * write is acknowledged once its records are committed to the WAL). get, query and search (and so
 * hybrid search) run the REST router over a Database whose reads are the engine's distributed read
 * (lib/engine/read/distributed-read.ts) over one HTTP ShardClient per live querynode: each node
 * serves its rendezvous share of the segments (querynode-view.ts), the proxy reduces candidates and
 * fetches the global page only; a node that does not answer leaves the view and the read runs
 * again on the others, which then serve its segments too.
 * Other reads, stats and deletes by filter go unscoped to one querynode — the collection's first
 * live one in rendezvous order, then the next when one does not answer — which is exact because
 * every querynode still holds every segment. A request naming a collection this proxy does not
 * know reads the catalog again before it is refused: another container may have just created it.
 * A request's X-Request-Id goes with it to the querynodes, so their log lines share its requestId.
 */
import { CollectionNotFoundError, isEngineError } from '../engine/errors.ts';
import { proxyRole } from '../engine/roles/proxy.ts';
import { isAuthorized } from '../api/auth.ts';
import { ErrorCode } from '../api/error-codes.ts';
import { errorBody, JSON_HEADERS } from '../api/response.ts';
import { API_PREFIX, REQUEST_ID_HEADER, handleRequest } from '../api/router.ts';
import type { ApiRequest, ApiResponse } from '../api/types.ts';
import type { SegmentMeta } from '../engine/catalog/catalog.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { QuerynodeRegistry, rendezvousOrder, type QuerynodeEntry } from './querynode-registry.ts';
import { httpShardClient } from '../adapters/http/shard-client.ts';
import type { Database } from '../engine/database.ts';
import { DEFAULT_ENGINE_CONFIG } from '../engine/engine-config.ts';
import { distributedDatabase, type ShardSource } from '../engine/read/distributed-read.ts';
import { openRoleDatabase, type SharedStores } from './shared-stores.ts';

/** Routes whose reads run distributed over the querynodes (the router over the distributed Database). */
const DISTRIBUTED = new Set(['entities/get', 'entities/query', 'entities/search', 'entities/hybrid_search', 'entities/advanced_search'].map((r) => API_PREFIX + r));
/** Routes one querynode answers: they need the data (deletes by filter, stats, index progress). */
const FORWARDED = new Set(['entities/delete', 'collections/get_stats', 'partitions/get_stats', 'indexes/describe'].map((r) => API_PREFIX + r));
/** How stale the proxy's view of the catalog and of the registry may be. */
const CACHE_MS = 500;

const FORWARD_TIMEOUT_MS = 60_000;
const UNAUTHENTICATED = errorBody(ErrorCode.NotAuthenticated, "user hasn't authenticated");
/** Request headers a querynode needs to answer as the proxy would. */
const PASSED_HEADERS = new Set(['db-name', 'accept-type-allow-int64', 'request-timeout', REQUEST_ID_HEADER]);

/** The proxy: routes REST v2 requests to the engine or to querynodes. */
export class ApiProxy {
  private nodes: { at: number; list: QuerynodeEntry[] } = { at: 0, list: [] };

  private constructor(
    readonly db: EngineDatabase,
    private readonly defaultEf: number,
    private readonly registry: QuerynodeRegistry,
    private readonly token: string | undefined,
    private readonly querynodeToken: string,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the proxy; `indexSegment` hands segments to the indexer (after createIndex). Clients must
   * send `token` (undefined only for `npm run dev:aws` on loopback); querynodes are called with
   * `querynodeToken` (default: `token`). Faults go to `logger` (default: nowhere).
   */
  static async open(
    stores: SharedStores,
    options: { token: string | undefined; querynodeToken?: string; config?: Partial<EngineConfig>; indexSegment: (meta: SegmentMeta) => void; logger?: Logger },
  ): Promise<ApiProxy> {
    const querynodeToken = options.querynodeToken ?? options.token;
    if (!querynodeToken) throw new TypeError('ApiProxy needs a token for the querynodes (querynodeToken or token)');
    const db = await openRoleDatabase(stores, 'proxy', options.config, proxyRole(options.indexSegment), options.logger);
    const log = options.logger ?? NOOP_LOGGER;
    return new ApiProxy(db, { ...DEFAULT_ENGINE_CONFIG, ...options.config }.defaultSearchEf, new QuerynodeRegistry(stores.kv), options.token, querynodeToken, log);
  }

  /** Answers one request; never throws. `logger` (default: the proxy's) has the request's id bound. */
  async handle(req: ApiRequest, logger: Logger = this.log): Promise<ApiResponse> {
    let route = req.path.split('?')[0];
    if (route.endsWith('/')) route = route.slice(0, -1);
    if (req.method.toUpperCase() === 'POST' && FORWARDED.has(route)) {
      const auth = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
      if (this.token !== undefined && !isAuthorized(auth, this.token)) return { status: 401, headers: { ...JSON_HEADERS }, body: UNAUTHENTICATED };
      const name = collectionNameOf(req.body);
      if (name !== undefined) return this.forward(route, name, req);
    }
    const db: Database = req.method.toUpperCase() === 'POST' && DISTRIBUTED.has(route) ? this.distributed(req) : this.db;
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

  /** The proxy's Database with get, query and search distributed over the live querynodes (HTTP shard clients). */
  private distributed(req: ApiRequest): Database {
    const requestId = Object.entries(req.headers).find(([k]) => k.toLowerCase() === REQUEST_ID_HEADER)?.[1];
    const headers: Record<string, string> = requestId ? { [REQUEST_ID_HEADER]: requestId } : {};
    const source: ShardSource = {
      shards: async () => (await this.liveNodes()).map((n) => httpShardClient(n.id, n.url, this.querynodeToken, { headers })),
      lost: () => {
        this.nodes.at = 0; // the registry is stale: re-read it on the next request
      },
    };
    return distributedDatabase(this.db, source, this.defaultEf);
  }

  private async liveNodes(): Promise<QuerynodeEntry[]> {
    if (Date.now() - this.nodes.at > CACHE_MS) this.nodes = { at: Date.now(), list: await this.registry.live() };
    return this.nodes.list;
  }

  /** The headers of a request to a querynode. */
  private nodeHeaders(req: ApiRequest): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${this.querynodeToken}` };
    for (const [k, v] of Object.entries(req.headers)) {
      const key = k.toLowerCase();
      if (v !== undefined && PASSED_HEADERS.has(key)) headers[key] = v;
    }
    return headers;
  }

  /** Sends a request to one querynode; throws when it does not answer. */
  private async post(node: QuerynodeEntry, route: string, headers: Record<string, string>, body: string | Buffer): Promise<{ status: number; body: string }> {
    const res = await fetch(node.url + route, { method: 'POST', headers, body, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
    return { status: res.status, body: await res.text() };
  }

  private async forward(route: string, collection: string, req: ApiRequest): Promise<ApiResponse> {
    let nodes: QuerynodeEntry[];
    try {
      nodes = rendezvousOrder(await this.liveNodes(), collection);
    } catch (err) {
      return registryFailed(err);
    }
    const headers = this.nodeHeaders(req);
    const failures: string[] = [];
    for (const node of nodes) {
      try {
        const res = await this.post(node, route, headers, req.body);
        return { status: res.status, headers: { ...JSON_HEADERS }, body: res.body };
      } catch (err) {
        failures.push(`${node.id} (${(err as Error).message})`);
        this.nodes.at = 0; // the registry is stale: re-read it on the next request
      }
    }
    return noQuerynode(nodes.length, failures);
  }

  /** Closes the engine (not the shared stores). */
  close(): Promise<void> {
    return this.db.close();
  }
}

function registryFailed(err: unknown): ApiResponse {
  return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(ErrorCode.Unexpected, `reading the querynode registry failed: ${(err as Error).message}; retry`) };
}

function noQuerynode(registered: number, failures: string[]): ApiResponse {
  const why = registered === 0 ? 'no querynode is registered' : `no querynode answered: ${failures.join('; ')}`;
  return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(ErrorCode.Unexpected, `${why}; the querynode service may be starting or scaling, retry shortly`) };
}

/** The request's collectionName, when the body is a JSON object naming one (else the router reports the problem). */
function collectionNameOf(body: string | Buffer): string | undefined {
  try {
    const parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as { collectionName?: unknown };
    return typeof parsed?.collectionName === 'string' && parsed.collectionName !== '' ? parsed.collectionName : undefined;
  } catch {
    return undefined;
  }
}
