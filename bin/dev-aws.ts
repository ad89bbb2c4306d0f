/**
 * `npm run dev:aws`: the whole AWS code path on this machine, against the npm-installed emulators
 * (DynamoDB Local, kinesis-mock, s3rver; no Docker, no account). `--proxies N` (default 2) separate
 * API proxy processes (bin/dev-aws-proxy.ts, as Lambda runs many API containers) behind one local
 * HTTP port, 127.0.0.1:19530 by default (`--port`; 0 picks a free port and the real URL is printed),
 * which hands each request to the next proxy in turn; a poller feeding Kinesis batches to the ingest
 * role as the event source mapping does (one datanode per shard), the datanodes' idle-channel sweep
 * every `--idle-sweep-ms` (as the stack's schedule invokes the ingest function), the indexer
 * in-process, the compactor every `--compaction-interval-ms` (default a minute; 0 turns it off), and
 * `--querynodes N` (default 2) querynode processes, each sealed segment held by `--replicas R` (default 1) of them. Flags fall back to the environment variables
 * named in `--help`. State lives in the emulators and is gone when it stops. Once the querynodes
 * serve it prints `migrans dev:aws: ready` (the bench waits for that line).
 * SIGTERM / SIGINT stop everything; if this process dies in any other way (even SIGKILL), the
 * emulators, proxies and querynodes go with it, because each runs under localstack/emulator-guard.mjs.
 * The banner lines are plain stdout; faults go to the console logger on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DynamoDbKvStore } from '../lib/adapters/aws/dynamodb-kv-store.ts';
import { KinesisWal } from '../lib/adapters/aws/kinesis-wal.ts';
import { consoleLogger } from '../lib/adapters/local/console-logger.ts';
import { resolveAwsConfig } from '../lib/aws/aws-config.ts';
import { AWS_ENV, MAX_REPLICAS } from '../lib/aws/aws-env.ts';
import { Compactor } from '../lib/aws/compactor.ts';
import { Datanode } from '../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../lib/aws/indexer-trigger.ts';
import { ingestBatch } from '../lib/aws/ingest-role.ts';
import { startKinesisPoller, type RunningPoller } from '../lib/aws/kinesis-poller.ts';
import { openSharedStores } from '../lib/aws/shared-stores.ts';
import { resolveLogConfig } from '../lib/config.ts';
import type { Logger } from '../lib/engine/ports/logger.ts';
import { EMULATOR_BUCKET, startEmulators, type Emulators } from '../localstack/emulators.ts';

const GUARD = path.join(import.meta.dirname, '..', 'localstack', 'emulator-guard.mjs');
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** The command line, each flag falling back to an environment variable. */
interface Flags {
  port: number;
  token?: string;
  proxies: number;
  querynodes: number;
  replicas: number;
  shards: number;
  compactionIntervalMs?: number;
  idleSweepMs: number;
}

const flags = new Command()
  .name('dev:aws')
  .description('The AWS code path of Migrans on local emulators (not AWS).')
  .option('--port <port>', 'port of the API (env MIGRANS_PORT; 0 = any free port)', intIn('--port', 0, 65535), intEnv('MIGRANS_PORT', 0, 65535, 19530))
  .option('--token <token>', 'require "Authorization: Bearer <token>" (env MIGRANS_TOKEN; default none, loopback only)', process.env.MIGRANS_TOKEN || undefined)
  .option('--proxies <n>', 'API proxy processes behind the port, round-robin (env MIGRANS_DEV_PROXIES)', intIn('--proxies', 1, 64), intEnv('MIGRANS_DEV_PROXIES', 1, 64, 2))
  .option('--querynodes <n>', 'querynode processes (env MIGRANS_DEV_QUERYNODES)', intIn('--querynodes', 1, 16), intEnv('MIGRANS_DEV_QUERYNODES', 1, 16, 2))
  .option('--replicas <n>', 'querynodes holding each sealed segment (env MIGRANS_REPLICAS)', intIn('--replicas', 1, MAX_REPLICAS), intEnv('MIGRANS_REPLICAS', 1, MAX_REPLICAS, 1))
  .option('--shards <n>', 'Kinesis shards of the WAL stream (env MIGRANS_DEV_SHARDS)', intIn('--shards', 1, 64), intEnv('MIGRANS_DEV_SHARDS', 1, 64, 2))
  .option('--compaction-interval-ms <ms>', 'compactor period (env MIGRANS_COMPACTION_INTERVAL_MS; default 60000; 0 = off)', intIn('--compaction-interval-ms', 0, 86_400_000))
  .option(
    '--idle-sweep-ms <ms>',
    "period of the datanodes' idle-channel sweep, the stack's ingest schedule (env MIGRANS_DEV_IDLE_SWEEP_MS)",
    intIn('--idle-sweep-ms', 100, 3_600_000),
    intEnv('MIGRANS_DEV_IDLE_SWEEP_MS', 100, 3_600_000, 5000),
  )
  .parse(process.argv)
  .opts<Flags>();

const querynodeToken = flags.token ?? crypto.randomBytes(16).toString('hex');

/** Where faults go: the default until the try below reads MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT. */
let logger: Logger = consoleLogger();
let emulators: Emulators | undefined;
let poller: RunningPoller | undefined;
let front: http.Server | undefined;
const timers: NodeJS.Timeout[] = [];
const children: { child: ChildProcess; dataDir?: string; exited: Promise<void> }[] = [];
let stopping = false;

// Registered before the emulators install their own handlers, so this runs first on a signal and
// takes the children down before the emulators vanish under them (which would only make them log
// connection errors while they stop).
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('exit', () => {
  for (const c of children) killGroup(c.child);
});

try {
  console.log('migrans dev:aws: starting DynamoDB Local, kinesis-mock and s3rver…');
  emulators = await startEmulators();
  // Where the state lives, for tools that inspect it (npm run scale sums the bucket's bytes).
  console.log(
    `migrans dev:aws: emulators at S3 ${emulators.env.AWS_ENDPOINT_URL_S3}, DynamoDB ${emulators.env.AWS_ENDPOINT_URL_DYNAMODB}, Kinesis ${emulators.env.AWS_ENDPOINT_URL_KINESIS}`,
  );
  Object.assign(process.env, {
    [AWS_ENV.bucket]: EMULATOR_BUCKET,
    [AWS_ENV.table]: 'migrans-kv',
    [AWS_ENV.walIndexTable]: 'migrans-wal-index',
    [AWS_ENV.stream]: 'migrans-wal',
    [AWS_ENV.token]: querynodeToken,
    [AWS_ENV.replicas]: String(flags.replicas),
  });
  if (flags.compactionIntervalMs !== undefined) process.env.MIGRANS_COMPACTION_INTERVAL_MS = String(flags.compactionIntervalMs);
  const config = resolveAwsConfig();
  await DynamoDbKvStore.createTable(config.table);
  await KinesisWal.createResources({ streamName: config.stream, shardCount: flags.shards, indexTableName: config.walIndexTable });

  logger = consoleLogger(resolveLogConfig());
  const indexer = inProcessIndexerTrigger(openSharedStores(config), logger);
  // One datanode per shard, with its own stores; its WAL takes the batch's records instead of reading them again.
  const datanodes = new Map<string, Promise<{ node: Datanode; wal: KinesisWal }>>();
  const datanodeOf = (shard: string) => {
    if (!datanodes.has(shard)) {
      const stores = openSharedStores(config);
      datanodes.set(
        shard,
        Datanode.open(stores, config.engine, indexer.trigger, { logger }).then((node) => ({ node, wal: stores.wal })),
      );
    }
    return datanodes.get(shard)!;
  };
  poller = await startKinesisPoller({
    streamName: config.stream,
    handle: async (batch, shard) => {
      const { node, wal } = await datanodeOf(shard);
      return ingestBatch(node, batch, Date.now() + 60_000, logger, { shard, wal });
    },
    logger,
  });
  // The stack's schedule invokes the ingest function for the sweep in some container; here, a datanode of its own.
  const sweeper = datanodeOf('sweep');
  let sweeping: Promise<unknown> | undefined; // a tick while a sweep runs is skipped, as the stack drops late ticks
  timers.push(
    setInterval(() => {
      sweeping ??= sweeper
        .then((d) => d.node.sweep())
        .catch((error) => logger.error('dev:aws: idle-channel sweep failed', { error }))
        .finally(() => (sweeping = undefined));
    }, flags.idleSweepMs),
  );
  const compactor = await Compactor.open(openSharedStores(config), config.engine, indexer.trigger, { logger });
  const compactionMs = config.engine.compactionIntervalMs ?? 60_000;
  if (compactionMs > 0) timers.push(setInterval(() => compactor.run().catch((error) => logger.error('dev:aws: compactor run failed', { error })), compactionMs));

  const serving: Promise<string>[] = [];
  for (let i = 0; i < flags.querynodes; i++) {
    const dataDir = path.join(os.tmpdir(), `migrans-dev-querynode-${process.pid}-${i}`);
    serving.push(startChild(`querynode ${i}`, 'querynode.ts', { MIGRANS_HOST: '127.0.0.1', [AWS_ENV.querynodePort]: '0', MIGRANS_DATA_DIR: dataDir }, /serving at/, dataDir));
  }
  for (const s of serving) s.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  const proxies: Promise<string>[] = [];
  for (let i = 0; i < flags.proxies; i++) {
    const tmp = path.join(os.tmpdir(), `migrans-dev-proxy-${process.pid}-${i}`);
    proxies.push(startChild(`proxy ${i}`, 'dev-aws-proxy.ts', { MIGRANS_DEV_CLIENT_TOKEN: flags.token ?? '', TMPDIR: tmp }, /proxy listening on (http:\/\/\S+)/, tmp));
  }
  const url = await listenRoundRobin(await Promise.all(proxies), flags.port);
  console.log(`migrans dev:aws: the AWS code path listens on ${url} (Milvus REST v2, ${flags.proxies} proxy processes${flags.token ? ', token required' : ''})`);
  const auth = flags.token ? ` -H "Authorization: Bearer $MIGRANS_TOKEN"` : '';
  console.log(`  try: curl -s -X POST ${url}/v2/vectordb/collections/list -H 'Content-Type: application/json'${auth} -d '{}'`);
  await Promise.all(serving);
  console.log(`migrans dev:aws: ready (${flags.querynodes} querynodes serving, pid ${process.pid})`);
} catch (error) {
  logger.error('dev:aws: start failed', { error });
  await stop(1);
}

/** Parses a flag's integer in [min, max]. */
function intIn(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be an integer in ${min}…${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** An environment variable's integer in [min, max], or `fallback` when unset; a bad value exits with a clear message. */
function intEnv(name: string, min: number, max: number, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  try {
    return intIn(name, min, max)(v);
  } catch (err) {
    console.error(`migrans dev:aws: ${(err as Error).message}`);
    process.exit(2);
  }
}

/**
 * Serves `port` on loopback and hands each request to the next proxy in turn (as API Gateway
 * spreads requests over Lambda containers); resolves with the base URL.
 */
function listenRoundRobin(upstreams: string[], port: number): Promise<string> {
  const agent = new http.Agent({ keepAlive: true });
  let next = 0;
  front = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', upstreams[next++ % upstreams.length]);
    const out = http.request(target, { method: req.method, headers: withoutHopByHop(req.headers), agent }, (up) => {
      // Hop-by-hop headers stay on their hop: the client must see this server's keep-alive timeout, not a proxy's.
      res.writeHead(up.statusCode ?? 502, withoutHopByHop(up.headers));
      up.pipe(res);
    });
    out.on('error', (err) => {
      // As API Gateway answers when its integration fails; a reply cut off midway stays cut off.
      if (res.headersSent) return void res.destroy(err);
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `migrans dev:aws: proxy ${target.origin} did not answer: ${err.message}` }));
    });
    req.pipe(out);
  });
  // Like the proxies' own servers (lib/api/node-server.ts): idle client connections stay open longer than clients keep them.
  front.keepAliveTimeout = 65_000;
  front.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    front!.once('error', reject);
    front!.listen(port, '127.0.0.1', () => resolve(`http://127.0.0.1:${(front!.address() as { port: number }).port}`));
  });
}

/** Headers without the hop-by-hop ones (RFC 9110 §7.6.1), which a forwarder must not pass on. */
function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * Spawns `bin/<script>` under the emulator guard (its own process group, which dies with this
 * process) with `env` added, passing its output through; resolves with the first match of `ready`
 * in its output (its first group, if any).
 */
function startChild(label: string, script: string, env: Record<string, string>, ready: RegExp, dataDir?: string): Promise<string> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, [GUARD, process.execPath, '--import', 'tsx', path.join(import.meta.dirname, script)], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'], // the guard takes the group down when our end of stdin closes
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  children.push({ child, dataDir, exited });
  return new Promise((resolve, reject) => {
    let seen = '';
    let done = false;
    child.stdout!.on('data', (d: Buffer) => {
      process.stdout.write(d);
      if (done) return;
      const m = ready.exec((seen += d.toString()));
      if (m) {
        done = true;
        resolve(m[1] ?? m[0]);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? code}) before serving`)));
  });
}

/** Kills a guarded child's whole process group; one that is gone already is fine. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Stops everything and exits with `code`. The proxies and querynodes hold nothing worth a graceful
 * close (their state is a cache of the emulators', which go too), so they are killed outright; a
 * watchdog exits anyway after 15 s if some close hangs.
 */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    logger.warn('dev:aws: stop took over 15 s; exiting anyway');
    process.exit(code || 1);
  }, 15_000).unref();
  for (const t of timers) clearInterval(t);
  for (const c of children) killGroup(c.child);
  await Promise.all(children.map((c) => c.exited));
  front?.closeAllConnections();
  await Promise.allSettled([new Promise((r) => (front ? front.close(r) : r(undefined))), poller?.stop()]);
  await emulators?.stop();
  for (const c of children) if (c.dataDir) fs.rmSync(c.dataDir, { recursive: true, force: true });
  process.exit(code);
}
