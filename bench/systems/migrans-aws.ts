/**
 * Migrans's AWS code path on local emulators (NOT AWS): `bin/dev-aws.ts` as a child process — the API
 * proxy behind an HTTP port, a Kinesis poller feeding the ingest datanodes, the indexer in-process
 * and two querynode processes, over DynamoDB Local, kinesis-mock and s3rver. The same REST requests
 * as `migrans-http` (rest-system.ts). Latencies here are those of the emulators on this machine
 * (a JVM DynamoDB, a Scala Kinesis mock, a Node S3), not of the AWS services.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { procTreeMemory } from '../metrics.ts';
import { BENCH_ENGINE_ENV } from './migrans-common.ts';
import { restSystem, type RestServer } from './rest-system.ts';
import type { BenchSystem } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GUARD = path.join(ROOT, 'localstack', 'emulator-guard.mjs');

/** Label every result of this system carries, so nobody reads its numbers as AWS's. */
export const AWS_LABEL = 'Migrans f32 — AWS code path on local emulators (not AWS)';

/**
 * Caps for the emulators: a search there takes tens of ms, not a fraction of one, and each
 * freshness or write sample goes through Kinesis and DynamoDB Local.
 */
export const AWS_MAX_QUERIES = 200;
/** Samples per get / write-ack / freshness measurement (see AWS_MAX_QUERIES). */
export const AWS_MAX_SAMPLES = 50;

/**
 * Starts `bin/dev-aws.ts` on a free port and resolves once its querynodes serve. It runs under
 * localstack/emulator-guard.mjs so that it (and through it the emulators and querynodes) dies with
 * the bench however the bench ends; a normal stop SIGTERMs dev-aws itself so it shuts its children
 * down in order.
 */
async function startDevAws(timeoutMs = 180_000): Promise<RestServer> {
  const guard = spawn(process.execPath, [GUARD, process.execPath, '--import', 'tsx', path.join(ROOT, 'bin', 'dev-aws.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...BENCH_ENGINE_ENV, MIGRANS_PORT: '0', MIGRANS_TOKEN: '' },
    detached: true, // the guard leads a process group: one kill reaches dev-aws too
    stdio: ['pipe', 'pipe', 'pipe'], // the guard kills its group when our end of stdin closes
  });
  guard.stdin!.on('error', () => {});
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 256 * 1024) out = out.slice(-128 * 1024);
  };
  guard.stdout!.on('data', keep);
  guard.stderr!.on('data', keep);
  // Never let these pipes keep the bench process alive after it is done.
  guard.unref();
  const killGroup = () => {
    try {
      process.kill(-guard.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  let url: string;
  let devAwsPid: number;
  try {
    [url, devAwsPid] = await new Promise<[string, number]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dev-aws was not ready within ${timeoutMs / 1000} s`)), timeoutMs);
      const check = () => {
        const listening = /listens on (http:\/\/[\d.]+:\d+)/.exec(out);
        const ready = /dev:aws: ready .*pid (\d+)/.exec(out);
        if (listening && ready) {
          clearTimeout(timer);
          resolve([listening[1], Number(ready[1])]);
        }
      };
      guard.stdout!.on('data', check);
      guard.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`dev-aws exited (${signal ?? code}) before it was ready`));
      });
    });
  } catch (err) {
    killGroup();
    throw new Error(`${(err as Error).message}; its output:\n${out.trim().split('\n').slice(-20).join('\n')}`, { cause: err });
  }
  return {
    url,
    pid: guard.pid!,
    output: () => out,
    exitStatus: () => guard.exitCode ?? guard.signalCode,
    async stop() {
      guard.ref();
      // SIGTERM to dev-aws itself (the guard would SIGKILL everything at once); the guard exits with it.
      if (guard.exitCode === null && guard.signalCode === null) {
        const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
        try {
          process.kill(devAwsPid, 'SIGTERM');
        } catch {
          killGroup();
        }
        const timer = setTimeout(killGroup, 30_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** `migrans-aws`: the Milvus REST API of the AWS code path, on the emulators. */
export function migransAws(): BenchSystem {
  return restSystem({
    id: 'migrans-aws',
    label: AWS_LABEL,
    quantization: 'f32',
    start: () => startDevAws(),
    memory(server) {
      const mem = procTreeMemory(server.pid);
      return {
        peakRssMiB: mem?.peakRssMiB,
        note: `peak RSS summed over every process of dev-aws (proxy + datanodes + indexer, 2 querynodes, DynamoDB Local, kinesis-mock, s3rver): ${mem?.detail ?? 'n/a'}`,
      };
    },
    // Every describe-index is DynamoDB reads through the proxy; polling fast only loads the emulators.
    indexPollMs: 250,
    maxQueries: AWS_MAX_QUERIES,
    maxSamples: AWS_MAX_SAMPLES,
    // The data lives in the emulators, which stop with dev-aws: a restart starts empty.
    reopens: false,
    compacts: false,
    notes: [
      'AWS code path on local emulators (not AWS): API proxy, Kinesis poller → 2 ingest datanodes, indexer in-process, 2 querynode processes over DynamoDB Local, kinesis-mock and s3rver (bin/dev-aws.ts)',
      `capped: ${AWS_MAX_QUERIES} queries per sweep / filter point, ${AWS_MAX_SAMPLES} samples for get, write ack and freshness`,
    ],
  });
}
