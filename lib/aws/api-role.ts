/**
 * The API Lambda: API Gateway (REST API, proxy integration) → the proxy. Each request's log lines
 * carry its id (the client's X-Request-Id, else the Lambda request id), passed on to the querynodes.
 * A `Content-Encoding: gzip` body reaches us base64-encoded (`isBase64Encoded`) when the REST API's
 * binaryMediaTypes cover its Content-Type; it is passed on still compressed, and the router inflates
 * it after the token check, under the same limit as the embedded server (lib/api/request-body.ts).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
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

/** Converts an API Gateway proxy event for the proxy and its answer back. */
export async function handleApiEvent(proxy: ApiProxy, event: APIGatewayProxyEvent, logger: Logger = NOOP_LOGGER, lambdaRequestId?: string): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase() === REQUEST_ID_HEADER ? REQUEST_ID_HEADER : k] = v;
  const requestId = (headers[REQUEST_ID_HEADER] = requestIdOf(headers, lambdaRequestId));
  const body = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const res = await proxy.handle({ method: event.httpMethod, path: event.path, headers, body }, logger.child({ requestId }));
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

/** The Lambda handler (the proxy is opened once per container). */
export function apiHandler(): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const logger = powertoolsLogger(resolveLogConfig());
  const proxy = containerSingleton(async () => {
    const config = resolveAwsConfig();
    const indexSegment = configuredIndexerTrigger(config, logger);
    return ApiProxy.open(openSharedStores(config), { token: await resolveApiToken(config), config: config.engine, replicas: config.replicas, indexSegment, logger });
  });
  return async (event, context) => handleApiEvent(await proxy(), event, logger, context?.awsRequestId);
}
