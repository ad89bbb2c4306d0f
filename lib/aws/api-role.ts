/** The API Lambda: API Gateway (REST API, proxy integration) → the proxy. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiProxy } from './api-proxy.ts';
import { resolveAwsConfig } from './aws-config.ts';
import { resolveApiToken } from './api-token.ts';
import { containerSingleton } from './container-singleton.ts';
import { configuredIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';

/** Converts an API Gateway proxy event for the proxy and its answer back. */
export async function handleApiEvent(proxy: ApiProxy, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string | undefined> = { ...(event.headers ?? {}) };
  const body = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const res = await proxy.handle({ method: event.httpMethod, path: event.path, headers, body });
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

/** The Lambda handler (the proxy is opened once per container). */
export function apiHandler(): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const proxy = containerSingleton(async () => {
    const config = resolveAwsConfig();
    const indexSegment = configuredIndexerTrigger(config);
    return ApiProxy.open(openSharedStores(config), { token: await resolveApiToken(config), config: config.engine, indexSegment });
  });
  return async (event) => handleApiEvent(await proxy(), event);
}
