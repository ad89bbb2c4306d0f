/** The querynode container's main: configuration from the environment the stack sets, SIGTERM stops it. */
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveApiToken } from '../lib/aws/api-token.ts';
import { resolveAwsConfig } from '../lib/aws/aws-config.ts';
import { startQuerynode } from '../lib/aws/querynode.ts';
import { openSharedStores } from '../lib/aws/shared-stores.ts';

const config = resolveAwsConfig();
const node = await startQuerynode({
  stores: openSharedStores(config),
  dataDir: process.env.MIGRANS_DATA_DIR || path.join(os.tmpdir(), 'migrans-querynode'),
  host: process.env.MIGRANS_HOST || '0.0.0.0',
  port: config.querynodePort,
  address: config.querynodeAddress,
  token: await resolveApiToken(config),
  config: config.engine,
  onFatal: (err) => {
    console.error('migrans querynode: exiting so that the orchestrator restarts it with a fresh bootstrap:', err);
    process.exit(1);
  },
});
console.log(`migrans querynode ${node.id} serving at ${node.url}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    node.close().then(() => process.exit(0), (err) => (console.error(err), process.exit(1)));
  });
}
