/** Builds an HNSW index file in a worker thread so the event loop stays responsive during the build. */
import { Worker } from 'node:worker_threads';
import type { VectorIndexParams } from '../../engine/ports/vector-index.ts';
import type { HnswBuildJob, HnswBuildResult, HnswBuildWorkerData } from './hnsw-build-worker.ts';
import { checkAdd, resolveIndexParams } from './index-params.ts';

/** Options of `buildHnswIndex`. */
export interface BuildHnswOptions {
  /**
   * Hand the vectors' ArrayBuffer to the worker instead of copying it: zero copies, but the
   * caller's `vectors` (and every view of that buffer) is detached afterwards. Vectors in a
   * SharedArrayBuffer are never copied nor detached.
   */
  transfer?: boolean;
  /** usearch insertion threads (default 2: the target machines have 2 cores). */
  threads?: number;
}

/** Default usearch insertion threads in the worker. */
export const DEFAULT_BUILD_THREADS = 2;

/**
 * Builds an HNSW index over `vectors` (`keys.length * dim` floats, keys = row offsets) in a
 * worker_threads Worker and saves it to `outPath`. The vectors cross to the worker once: shared
 * memory as is, otherwise one copy that is then transferred (or the caller's buffer itself with
 * `transfer: true`). Resolves when the file is written; rejects with the worker's error.
 */
export function buildHnswIndex(vectors: Float32Array, keys: Uint32Array, params: VectorIndexParams, outPath: string, options: BuildHnswOptions = {}): Promise<void> {
  let job: HnswBuildJob;
  const transferList: ArrayBuffer[] = [];
  try {
    const p = resolveIndexParams(params);
    checkAdd(keys, vectors, p.dim);
    const threads = options.threads ?? DEFAULT_BUILD_THREADS;
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`build threads must be a non-negative integer, got ${threads}`);
    let v = vectors;
    if (!(vectors.buffer instanceof SharedArrayBuffer)) {
      if (!options.transfer) v = vectors.slice(); // the one copy; the caller keeps its array
      transferList.push(v.buffer as ArrayBuffer);
    }
    job = { vectors: v, keys, params: p, outPath, threads };
  } catch (err) {
    return Promise.reject(err);
  }

  return new Promise<void>((resolve, reject) => {
    const worker = spawnBuildWorker(job, transferList);
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    worker.once('message', (msg: HnswBuildResult) => {
      if (msg.ok) finish(null);
      else {
        const err = new Error(`building the HNSW index ${outPath} failed: ${msg.message}`);
        err.name = msg.name;
        if (msg.stack) err.stack = `${err.name}: ${err.message}\n--- in worker ---\n${msg.stack}`;
        finish(err);
      }
    });
    worker.once('error', (err) => finish(new Error(`HNSW build worker for ${outPath} crashed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => finish(new Error(`HNSW build worker for ${outPath} exited with code ${code} before reporting a result`)));
  });
}

/**
 * Starts the worker module. Compiled JS runs it directly; TypeScript sources run it through
 * `ts-worker-boot.mjs`, which registers tsx inside the worker when Node 20 did not carry the
 * `--import tsx` flag over (see that file).
 */
function spawnBuildWorker(job: HnswBuildJob, transferList: ArrayBuffer[]): Worker {
  const here = import.meta.url;
  const fromTs = here.endsWith('.ts');
  const entry = new URL(fromTs ? './hnsw-build-worker.ts' : './hnsw-build-worker.js', here);
  const data: HnswBuildWorkerData = { entry: entry.href, job };
  const script = fromTs ? new URL('./ts-worker-boot.mjs', here) : entry;
  return new Worker(script, { execArgv: process.execArgv, workerData: data, transferList });
}
