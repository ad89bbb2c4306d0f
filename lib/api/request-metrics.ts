/**
 * Request metrics at the HTTP edge, and the GET /metrics route: wraps a server's request handler
 * so every request is counted and timed per route (`migrans_requests_total`,
 * `migrans_request_duration_seconds`). Route labels come from the router's own route table (plus
 * the internal shard route), never from the request path as sent, so a client cannot grow the
 * label set. An answer carrying an error counts as `outcome="error"`.
 */
import type { ExposedMetrics } from '../engine/ports/metrics.ts';
import type { Logger } from '../engine/ports/logger.ts';
import { routePaths } from './router.ts';
import type { ApiRequest, ApiResponse } from './types.ts';

/** The route that serves the Prometheus text. */
export const METRICS_ROUTE = '/metrics';

/** A server's request handler. */
export type RequestHandler = (req: ApiRequest, logger: Logger) => Promise<ApiResponse>;

/** `handle` counted and timed per route, with GET /metrics answered from `metrics`; `extraRoutes` are other paths worth their own label. */
export function withRequestMetrics(handle: RequestHandler, metrics: ExposedMetrics, extraRoutes: readonly string[] = []): RequestHandler {
  const known = new Set([...routePaths(), ...extraRoutes]);
  const requests = metrics.counter('migrans_requests_total', 'Requests answered, by route and outcome', ['route', 'outcome']);
  const latency = metrics.histogram('migrans_request_duration_seconds', 'Time to answer a request, by route', ['route']);
  return async (req, logger) => {
    let route = req.path.split('?')[0];
    if (route.length > 1 && route.endsWith('/')) route = route.slice(0, -1);
    if (route === METRICS_ROUTE && req.method.toUpperCase() === 'GET') {
      return { status: 200, headers: { 'content-type': metrics.contentType }, body: await metrics.text() };
    }
    const label = known.has(route) ? route : 'other';
    const start = process.hrtime.bigint();
    const reply = await handle(req, logger);
    latency.observe({ route: label }, Number(process.hrtime.bigint() - start) / 1e9);
    requests.inc({ route: label, outcome: reply.error || reply.status >= 400 ? 'error' : 'ok' });
    return reply;
  };
}
