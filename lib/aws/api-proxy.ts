/**
 * The proxy on AWS (the API Lambda's role): the same REST v2 router over an EngineDatabase that
 * loads no segments and applies no channel. DDL goes to the shared catalog, writes to Kinesis (the
 * write is acknowledged once its records are committed to the WAL); reads, stats and deletes by
 * filter are forwarded to a querynode — the collection's first live one in rendezvous order, then
 * the next when one does not answer.
 */
import { isAuthorized } from '../api/auth.ts';
import { errorBody, JSON_HEADERS } from '../api/response.ts';
import { API_PREFIX, handleRequest } from '../api/router.ts';
import type { ApiRequest, ApiResponse } from '../api/types.ts';
import type { SegmentMeta } from '../engine/catalog/catalog.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { ErrorCode } from '../engine/errors.ts';
import { QuerynodeRegistry, rendezvousOrder, type QuerynodeEntry } from './querynode-registry.ts';
import { openRoleDatabase, type SharedStores } from './shared-stores.ts';

/** Routes a querynode answers: they need the data. */
const FORWARDED = new Set(
  ['entities/get', 'entities/query', 'entities/search', 'entities/hybrid_search', 'entities/advanced_search', 'entities/delete', 'collections/get_stats', 'partitions/get_stats', 'indexes/describe'].map(
    (r) => API_PREFIX + r,
  ),
);
/** How stale the proxy's view of the catalog and of the registry may be. */
const CACHE_MS = 500;
const FORWARD_TIMEOUT_MS = 60_000;
const UNAUTHENTICATED = errorBody(ErrorCode.NotAuthenticated, "user hasn't authenticated");

/** The proxy: routes REST v2 requests to the engine or to querynodes. */
export class ApiProxy {
  private nodes: { at: number; list: QuerynodeEntry[] } = { at: 0, list: [] };

  private constructor(
    readonly db: EngineDatabase,
    private readonly registry: QuerynodeRegistry,
    private readonly token: string | undefined,
    private readonly querynodeToken: string,
  ) {}

  /**
   * Opens the proxy; `indexSegment` hands segments to the indexer (after createIndex). Clients must
   * send `token` (undefined only for `npm run dev:aws` on loopback); querynodes are called with
   * `querynodeToken` (default: `token`).
   */
  static async open(
    stores: SharedStores,
    options: { token: string | undefined; querynodeToken?: string; config?: Partial<EngineConfig>; indexSegment: (meta: SegmentMeta) => void },
  ): Promise<ApiProxy> {
    const querynodeToken = options.querynodeToken ?? options.token;
    if (!querynodeToken) throw new TypeError('ApiProxy needs a token for the querynodes (querynodeToken or token)');
    const db = await openRoleDatabase(stores, 'proxy', options.config, { loadsSegments: () => false, applies: () => false, indexSegment: options.indexSegment });
    return new ApiProxy(db, new QuerynodeRegistry(stores.kv), options.token, querynodeToken);
  }

  /** Answers one request; never throws. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    let route = req.path.split('?')[0];
    if (route.endsWith('/')) route = route.slice(0, -1);
    if (req.method.toUpperCase() === 'POST' && FORWARDED.has(route)) {
      const auth = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
      if (this.token !== undefined && !isAuthorized(auth, this.token)) return { status: 401, headers: { ...JSON_HEADERS }, body: UNAUTHENTICATED };
      const name = collectionNameOf(req.body);
      if (name !== undefined) return this.forward(route, name, req);
    }
    try {
      await this.db.refreshCatalogIfOlder(CACHE_MS);
    } catch (err) {
      return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(ErrorCode.Unexpected, `reading the catalog failed: ${(err as Error).message}; retry`) };
    }
    return handleRequest(this.db, req, { token: this.token });
  }

  private async liveNodes(): Promise<QuerynodeEntry[]> {
    if (Date.now() - this.nodes.at > CACHE_MS) this.nodes = { at: Date.now(), list: await this.registry.live() };
    return this.nodes.list;
  }

  private async forward(route: string, collection: string, req: ApiRequest): Promise<ApiResponse> {
    let nodes: QuerynodeEntry[];
    try {
      nodes = rendezvousOrder(await this.liveNodes(), collection);
    } catch (err) {
      return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(ErrorCode.Unexpected, `reading the querynode registry failed: ${(err as Error).message}; retry`) };
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${this.querynodeToken}` };
    for (const [k, v] of Object.entries(req.headers)) {
      const key = k.toLowerCase();
      if (v !== undefined && (key === 'db-name' || key === 'accept-type-allow-int64' || key === 'request-timeout')) headers[key] = v;
    }
    const failures: string[] = [];
    for (const node of nodes) {
      try {
        const res = await fetch(node.url + route, { method: 'POST', headers, body: req.body, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
        const body = await res.text();
        return { status: res.status, headers: { ...JSON_HEADERS }, body };
      } catch (err) {
        failures.push(`${node.id} (${(err as Error).message})`);
        this.nodes.at = 0; // the registry is stale: re-read it on the next request
      }
    }
    const why = nodes.length === 0 ? 'no querynode is registered' : `no querynode answered: ${failures.join('; ')}`;
    return { status: 200, headers: { ...JSON_HEADERS }, body: errorBody(ErrorCode.Unexpected, `${why}; the querynode service may be starting or scaling, retry shortly`) };
  }

  /** Closes the engine (not the shared stores). */
  close(): Promise<void> {
    return this.db.close();
  }
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
