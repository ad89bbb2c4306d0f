#!/usr/bin/env -S node --import tsx
/** The `migrans` CLI: `migrans serve` runs the embedded engine behind the Milvus REST v2 API. */
import { Command } from 'commander';
import { startServer } from '../lib/api/node-server.ts';
import { ConfigError, DEFAULTS, ENGINE_ENV, resolveEngineConfig, resolveServeConfig, type ServeFlags } from '../lib/config.ts';
import { openEmbeddedDatabase } from '../lib/embedded.ts';

async function serve(flags: ServeFlags): Promise<void> {
  let config;
  let engine;
  try {
    config = resolveServeConfig(flags);
    engine = resolveEngineConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`migrans: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const db = await openEmbeddedDatabase({ dataDir: config.dataDir, config: engine });
  const server = await startServer({ db, host: config.host, port: config.port, token: config.token, corsOrigins: config.corsOrigins });
  const auth = config.token ? ' -H "Authorization: Bearer $MIGRANS_TOKEN"' : '';
  console.log(`Migrans listening on ${server.url} (Milvus REST v2, data in ${config.dataDir}${config.token ? ', token required' : ''})`);
  console.log('Try:');
  console.log(`  curl -s -X POST ${server.url}/v2/vectordb/collections/create${auth} -d '{"collectionName":"demo","dimension":4}'`);
  console.log(`  curl -s -X POST ${server.url}/v2/vectordb/collections/list${auth} -d '{}'`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      console.error(`migrans: ${signal} again, exiting without a clean shutdown`);
      process.exit(1);
    }
    stopping = true;
    console.log(`migrans: ${signal} received, shutting down`);
    server
      .close()
      .then(() => db.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error('migrans: shutdown failed:', err);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command();
program.name('migrans').description("A vector database with Milvus's data model and REST API v2.");
program
  .command('serve')
  .description('Run the embedded engine and serve the Milvus REST v2 API')
  .option('--port <port>', `port to listen on (env MIGRANS_PORT; default ${DEFAULTS.port})`)
  .option('--host <host>', `address to bind (env MIGRANS_HOST; default ${DEFAULTS.host}); a non-loopback host needs a token`)
  .option('--data-dir <dir>', `data directory (env MIGRANS_DATA_DIR; default ${DEFAULTS.dataDir})`)
  .option('--token <token>', 'require "Authorization: Bearer <token>" on every request (env MIGRANS_TOKEN)')
  .option('--cors-origins <list>', 'comma-separated origins of web pages allowed to call the API, e.g. http://localhost:3000 (env MIGRANS_CORS_ORIGINS; default none)')
  .addHelpText('after', `\nEngine knobs (environment): ${Object.keys(ENGINE_ENV).join(', ')} — see README.md.`)
  .action((flags: ServeFlags) => serve(flags));

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error('migrans:', err);
  process.exit(1);
});
