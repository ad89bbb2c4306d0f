#!/usr/bin/env -S node --import tsx
/**
 * The `migrans` CLI: `migrans serve` runs the embedded engine behind the Milvus REST v2 API;
 * `migrans repair` lists damaged WAL channels of a stopped server's data directory and, with
 * --yes, cuts them explicitly (file-wal-repair.ts says what each repair does and loses).
 * What the user asked for (the banner, the repair report, a configuration or startup refusal) is
 * plain text on stdout/stderr; faults while running go through the logger (MIGRANS_LOG_LEVEL,
 * MIGRANS_LOG_FORMAT).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { acquireDataDirLock } from '../lib/adapters/local/data-dir-lock.ts';
import { describeRepair, inspectWalChannel, listWalChannels, repairWalChannel } from '../lib/adapters/local/file-wal-repair.ts';
import { consoleLogger } from '../lib/adapters/local/console-logger.ts';
import { LmdbKvStore } from '../lib/adapters/local/lmdb-kv-store.ts';
import { startServer } from '../lib/api/node-server.ts';
import { HEALTH_ROUTES, withHealthRoutes } from '../lib/api/health.ts';
import { registerEngineGauges } from '../lib/api/engine-gauges.ts';
import { withRequestMetrics } from '../lib/api/request-metrics.ts';
import { handleRequest } from '../lib/api/router.ts';
import { PrometheusMetrics } from '../lib/adapters/metrics/prometheus-metrics.ts';
import { directoryBytes } from '../lib/adapters/local/directory-bytes.ts';
import { ConfigError, DEFAULTS, ENGINE_ENV, resolveEngineConfig, resolveLogConfig, resolveServeConfig, type ServeFlags } from '../lib/config.ts';
import { openEmbeddedDatabase } from '../lib/embedded.ts';
import { Catalog } from '../lib/engine/catalog/catalog.ts';
import { collectionOfChannel } from '../lib/engine/channel-state.ts';
import { pkRebuildKey } from '../lib/engine/catalog/key-layout.ts';
import { walReach } from '../lib/engine/collection/collection-runtime.ts';
import type { KvWrite } from '../lib/engine/ports/kv-store.ts';
import type { Logger } from '../lib/engine/ports/logger.ts';
import { CorruptDataError, DataDirInUseError, StorageError } from '../lib/engine/errors.ts';

/** The version in the package.json next to this CLI. */
function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The process's logger: the default until `serve` reads MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT. */
let logger: Logger = consoleLogger();

async function serve(flags: ServeFlags): Promise<void> {
  let config;
  let engine;
  try {
    config = resolveServeConfig(flags);
    engine = resolveEngineConfig();
    logger = consoleLogger(resolveLogConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`migrans: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const metrics = new PrometheusMetrics();
  let db;
  try {
    db = await openEmbeddedDatabase({ dataDir: config.dataDir, config: engine, logger, metrics });
  } catch (err) {
    // Another server owns the directory: one line and exit 2 (a usage error), no stack trace.
    if (err instanceof DataDirInUseError) {
      console.error(`migrans: ${err.message}`);
      process.exit(2);
    }
    // A damaged or unreadable store: the message names the file and what to do; a stack adds nothing.
    if (err instanceof CorruptDataError || err instanceof StorageError) {
      console.error(`migrans: cannot open the data directory ${config.dataDir}: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  registerEngineGauges(metrics, db, () => directoryBytes(config.dataDir));
  const served = db;
  const handle = withRequestMetrics(
    withHealthRoutes((req, log) => handleRequest(served, req, { token: config.token, logger: log }), served),
    metrics,
    [...HEALTH_ROUTES],
  );
  let server;
  try {
    server = await startServer({
      db,
      handle,
      host: config.host,
      port: config.port,
      token: config.token,
      corsOrigins: config.corsOrigins,
      logger,
      publicPaths: HEALTH_ROUTES,
    });
  } catch (err) {
    // The address is taken or not ours to bind: one line naming it and what to do, no stack trace.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
    await served.close();
    const why = code === 'EADDRINUSE' ? 'is in use by another process' : code === 'EACCES' ? 'needs privileges this process does not have' : 'is not an address of this machine';
    console.error(`migrans: cannot listen on ${config.host}:${config.port}: the address ${why}; pick another with --port / --host (MIGRANS_PORT, MIGRANS_HOST)`);
    process.exit(1);
  }
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
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** Flags of `migrans repair`. */
interface RepairFlags {
  dataDir?: string;
  channel?: string;
  yes?: boolean;
}

/** Lists the damaged WAL channels (file, offset, what a repair loses); with --yes repairs each. Exit code 1 while damage remains. */
async function repair(flags: RepairFlags): Promise<void> {
  const dataDir = path.resolve(flags.dataDir ?? process.env.MIGRANS_DATA_DIR ?? DEFAULTS.dataDir);
  const walRoot = path.join(dataDir, 'wal');
  if (!fs.existsSync(path.join(dataDir, 'kv'))) {
    console.error(`migrans repair: ${dataDir} is not a Migrans data directory (no kv/ in it); pass --data-dir <dir>`);
    process.exit(2);
  }
  let lock;
  try {
    lock = acquireDataDirLock(dataDir); // never repair under a running server
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    console.error(`migrans repair: ${err.message}`);
    process.exit(2);
  }
  const kv = await LmdbKvStore.open(path.join(dataDir, 'kv'));
  let left = 0;
  try {
    const catalog = new Catalog(kv);
    const channels = flags.channel ? [flags.channel] : await listWalChannels(walRoot);
    if (channels.length === 0) console.log(`migrans repair: no WAL channels in ${walRoot}`);
    for (const channel of channels) {
      const id = collectionOfChannel(channel);
      const info = id === undefined ? undefined : await catalog.getCollection(id);
      const label = `channel ${channel}${info ? ` (collection ${info.name})` : ''}`;
      const checkpoint = (await catalog.getCheckpoint(channel)).position;
      // The log must keep reaching every position the collection's durable segments were built from.
      const index = Number(channel.slice(channel.lastIndexOf('-') + 1));
      const metas = (id === undefined ? [] : await catalog.listSegments(id)).filter((m) => m.channel === index);
      let reach = checkpoint;
      for (const meta of metas) if ((meta.state === 'Flushed' || meta.state === 'Dropped') && walReach(meta) > reach) reach = walReach(meta);
      // A repair may reveal further damage behind the first: inspect again until the channel is clean.
      for (let round = 0; ; round++) {
        const damage = await inspectWalChannel(walRoot, channel, checkpoint, reach);
        if (!damage) {
          if (round === 0) console.log(`migrans repair: ${label}: no damage`);
          break;
        }
        console.log(
          `migrans repair: ${label}: damaged at byte ${damage.offset} of ${damage.file} (record position ${damage.position}, checkpoint ${checkpoint}): ${damage.problem}`,
        );
        console.log(`migrans repair:   repair: ${describeRepair(damage)}`);
        if (damage.action.kind === 'none' || !flags.yes || round >= 100) {
          left++;
          break;
        }
        if (damage.action.kind === 'truncate' && id !== undefined) {
          // Records from the cut on were applied: their unflushed segments go, and the PK index is rebuilt at the next open.
          const ops: KvWrite[] = metas
            .filter((m) => (m.state === 'Growing' || m.state === 'Sealed') && m.startPosition >= damage.position)
            .map((m) => catalog.deleteSegmentOp(id, m.segmentId));
          ops.push({ type: 'put', key: pkRebuildKey(id), value: new Uint8Array([1]) });
          await catalog.write(ops);
        }
        await repairWalChannel(damage);
        console.log(`migrans repair:   done: ${describeRepair(damage)}`);
      }
    }
  } finally {
    await kv.close();
    lock.release();
  }
  if (left > 0) {
    console.log(
      flags.yes
        ? `migrans repair: ${left} channel(s) still damaged (see above)`
        : `migrans repair: ${left} damaged channel(s); run again with --yes to repair as described (stop the server first)`,
    );
    process.exitCode = 1;
  }
}

const program = new Command();
program.name('migrans').description("A vector database with Milvus's data model and REST API v2.").version(packageVersion(), '-V, --version', 'print the version');
program
  .command('serve')
  .description('Run the embedded engine and serve the Milvus REST v2 API')
  .option('--port <port>', `port to listen on (env MIGRANS_PORT; default ${DEFAULTS.port})`)
  .option('--host <host>', `address to bind (env MIGRANS_HOST; default ${DEFAULTS.host}); a non-loopback host needs a token`)
  .option('--data-dir <dir>', `data directory (env MIGRANS_DATA_DIR; default ${DEFAULTS.dataDir})`)
  .option('--token <token>', 'require "Authorization: Bearer <token>" on every request (env MIGRANS_TOKEN)')
  .option('--cors-origins <list>', 'comma-separated origins of web pages allowed to call the API, e.g. http://localhost:3000 (env MIGRANS_CORS_ORIGINS; default none)')
  .addHelpText('after', `\nEngine knobs (environment): ${Object.keys(ENGINE_ENV).join(', ')}; logging: MIGRANS_LOG_LEVEL, MIGRANS_LOG_FORMAT — see README.md.`)
  .action((flags: ServeFlags) => serve(flags));

program
  .command('repair')
  .description('List damaged WAL channels of a data directory (file, offset, records a repair loses); with --yes, repair them. Stop the server first.')
  .option('--data-dir <dir>', `data directory (default ${DEFAULTS.dataDir})`)
  .option('--channel <channel>', 'only this WAL channel, e.g. c12-0')
  .option('--yes', 'carry out the repairs listed (an explicit, logged truncation)')
  .action((flags: RepairFlags) =>
    repair(flags).catch((err: unknown) => {
      // A bad --channel or an unreadable file: the message says which; a stack adds nothing.
      if (!(err instanceof RangeError || err instanceof StorageError || err instanceof CorruptDataError)) throw err;
      console.error(`migrans repair: ${err.message}`);
      process.exit(1);
    }),
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  logger.error('migrans failed', { error });
  process.exit(1);
});
