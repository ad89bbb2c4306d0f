/**
 * One API proxy process of `npm run dev:aws` (as one API Lambda container): the proxy role over the
 * emulators named by the MIGRANS_* and AWS_ENDPOINT_URL_* environment dev-aws passes on, behind an
 * HTTP server on a free loopback port. It prints `proxy listening on <url>` once it serves; dev-aws
 * spreads requests over several of these round-robin, so autoIDs, DDL and writes run in separate
 * processes as on AWS. Segments it hands to the indexer (after createIndex) are built in process.
 * Faults go to the console logger on stderr (MIGRANS_LOG_LEVEL, MIGRANS_LOG_FORMAT).
 */
import { consoleLogger } from '../lib/adapters/local/console-logger.ts';
import { startServer } from '../lib/api/node-server.ts';
import { ApiProxy } from '../lib/aws/api-proxy.ts';
import { resolveAwsConfig } from '../lib/aws/aws-config.ts';
import { inProcessIndexerTrigger } from '../lib/aws/indexer-trigger.ts';
import { openSharedStores } from '../lib/aws/shared-stores.ts';
import { resolveLogConfig } from '../lib/config.ts';

const config = resolveAwsConfig();
const logger = consoleLogger(resolveLogConfig());
const indexer = inProcessIndexerTrigger(openSharedStores(config), logger);
// MIGRANS_DEV_CLIENT_TOKEN: the token clients must send ('' = none, loopback only); MIGRANS_TOKEN is the querynodes'.
const clientToken = process.env.MIGRANS_DEV_CLIENT_TOKEN || undefined;
const proxy = await ApiProxy.open(openSharedStores(config), {
  token: clientToken,
  querynodeToken: config.token,
  config: config.engine,
  replicas: config.replicas,
  indexSegment: indexer.trigger,
  logger,
});
// The token also goes to the server, which refuses a request without it before reading its body.
const server = await startServer({ db: proxy.db, handle: (req, log) => proxy.handle(req, log), host: '127.0.0.1', port: 0, token: clientToken, logger });
console.log(`proxy listening on ${server.url}`);
const stop = () => void server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
