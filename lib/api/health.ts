/**
 * Health routes for supervisors and load balancers, answered before the router and without a token
 * (they reveal no data): `GET /healthz` is 200 while the process serves at all; `GET /readyz` is 200
 * once no collection is still loading, else 503 with how many are. Docker, Kubernetes and ECS health
 * checks call them.
 */
import type { Database } from '../engine/database.ts';
import { JSON_HEADERS } from './response.ts';
import type { RequestHandler } from './request-metrics.ts';
import type { ApiResponse } from './types.ts';

/** The liveness route. */
export const HEALTH_ROUTE = '/healthz';
/** The readiness route. */
export const READY_ROUTE = '/readyz';
/** Both, for the server's public paths. */
export const HEALTH_ROUTES: ReadonlySet<string> = new Set([HEALTH_ROUTE, READY_ROUTE]);

const answer = (status: number, body: object): ApiResponse => ({ status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) });

/** How many collections of `db` are still loading. */
async function loadingCollections(db: Pick<Database, 'listDatabases' | 'listCollections' | 'getLoadState'>): Promise<number> {
  let loading = 0;
  for (const name of await db.listDatabases()) {
    for (const collection of await db.listCollections(name)) {
      if ((await db.getLoadState(name, collection)).loadState === 'LoadStateLoading') loading++;
    }
  }
  return loading;
}

/** `handle` with GET /healthz and /readyz answered from `db` first. */
export function withHealthRoutes(handle: RequestHandler, db: Pick<Database, 'listDatabases' | 'listCollections' | 'getLoadState'>): RequestHandler {
  return async (req, logger) => {
    const route = req.path.split('?')[0];
    if (req.method.toUpperCase() !== 'GET' || !HEALTH_ROUTES.has(route)) return handle(req, logger);
    if (route === HEALTH_ROUTE) return answer(200, { status: 'ok' });
    const loading = await loadingCollections(db);
    return loading === 0 ? answer(200, { status: 'ready' }) : answer(503, { status: 'loading', loadingCollections: loading });
  };
}
