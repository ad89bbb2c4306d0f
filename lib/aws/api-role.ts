/**
 * The API Lambda: API Gateway → the proxy, from a REST API's proxy integration (payload 1.0) or an
 * HTTP API's (payload 2.0, the cheaper front door; lib/infra `apiType`). Each request's log lines
 * carry its id (the client's X-Request-Id, else the Lambda request id), passed on to the querynodes.
 * A `Content-Encoding: gzip` body reaches us base64-encoded (`isBase64Encoded`) when the REST API's
 * binaryMediaTypes cover its Content-Type; it is passed on still compressed, and the router inflates
 * it after the token check, under the same limit as the embedded server (lib/api/request-body.ts).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { powertoolsLogger } from '../adapters/aws/powertools-logger.ts';
import { REQUEST_ID_HEADER, requestIdOf } from '../api/router.ts';
import { resolveLogConfig } from '../config.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { ApiProxy } from './api-proxy.ts';
import { resolveAwsConfig } from './aws-config.ts';
import { resolveApiToken } from './api-token.ts';
import { containerSingleton } from './container-singleton.ts';
import { configuredIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';

/** An API Gateway proxy event: a REST API's (payload 1.0) or an HTTP API's (payload 2.0). */
export type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** Whether `event` is an HTTP API's payload 2.0 event. */
function isHttpApiEvent(event: ApiEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0';
}

/**
 * Converts an API Gateway proxy event for the proxy and its answer back (the same answer shape
 * serves both payload versions). An HTTP API's path is `rawPath`: the stack serves it on the
 * `$default` stage, so it carries no stage prefix.
 */
export async function handleApiEvent(proxy: ApiProxy, event: ApiEvent, logger: Logger = NOOP_LOGGER, lambdaRequestId?: string): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase() === REQUEST_ID_HEADER ? REQUEST_ID_HEADER : k] = v;
  const requestId = (headers[REQUEST_ID_HEADER] = requestIdOf(headers, lambdaRequestId));
  const body = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const [method, path] = isHttpApiEvent(event) ? [event.requestContext.http.method, event.rawPath] : [event.httpMethod, event.path];
  const res = await proxy.handle({ method, path, headers, body }, logger.child({ requestId }));
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

/** The Lambda handler (the proxy is opened once per container). */
export function apiHandler(): (event: ApiEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const logger = powertoolsLogger(resolveLogConfig());
  const proxy = containerSingleton(async () => {
    const config = resolveAwsConfig();
    const indexSegment = configuredIndexerTrigger(config, logger);
    return ApiProxy.open(openSharedStores(config), { token: await resolveApiToken(config), config: config.engine, replicas: config.replicas, indexSegment, logger });
  });
  return async (event, context) => handleApiEvent(await proxy(), event, logger, context?.awsRequestId);
}
