/**
 * The querynode container's main: configuration from the environment the stack sets, SIGTERM stops
 * it. It logs through the powertools logger (JSON lines on stdout, as the Lambda functions do).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { powertoolsLogger } from '../lib/adapters/aws/powertools-logger.ts';
import { resolveApiToken } from '../lib/aws/api-token.ts';
import { resolveAwsConfig } from '../lib/aws/aws-config.ts';
import { startQuerynode } from '../lib/aws/querynode.ts';
import { openSharedStores } from '../lib/aws/shared-stores.ts';
import { resolveLogConfig } from '../lib/config.ts';

const logger = powertoolsLogger(resolveLogConfig());
const config = resolveAwsConfig();
const node = await startQuerynode({
  stores: openSharedStores(config),
  dataDir: process.env.MIGRANS_DATA_DIR || path.join(os.tmpdir(), 'migrans-querynode'),
  host: process.env.MIGRANS_HOST || '0.0.0.0',
  port: config.querynodePort,
  address: config.querynodeAddress,
  token: await resolveApiToken(config),
  config: config.engine,
  replicas: config.replicas,
  logger,
  onFatal: (error) => {
    logger.error('querynode: exiting so that the orchestrator restarts it with a fresh bootstrap', { querynode: node.id, error });
    process.exit(1);
  },
});
// dev-aws waits for "serving at" in this line.
logger.info(`migrans querynode ${node.id} serving at ${node.url}`, { querynode: node.id, url: node.url });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    node.close().then(
      () => process.exit(0),
      (error) => (logger.error('querynode: close failed', { querynode: node.id, error }), process.exit(1)),
    );
  });
}
