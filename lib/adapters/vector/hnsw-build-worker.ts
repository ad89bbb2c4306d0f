/**
 * Worker entry that builds and saves one HNSW index (spawned by `buildHnswIndex`), keeping the
 * multi-second graph construction off the main event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { VectorIndexParams } from '../../engine/ports/vector-index.ts';
import { HnswVectorIndex } from './hnsw-vector-index.ts';

/** What the parent sends in `workerData`. */
export interface HnswBuildJob {
  vectors: Float32Array;
  keys: Uint32Array;
  params: VectorIndexParams;
  outPath: string;
  threads: number;
}

/** The worker's `workerData`: its own module URL (for the TS bootstrap) and the job. */
export interface HnswBuildWorkerData {
  entry: string;
  job: HnswBuildJob;
}

/** What the worker posts back once. */
export type HnswBuildResult = { ok: true; size: number; ms: number } | { ok: false; name: string; message: string; stack?: string };

if (parentPort) {
  const { job } = workerData as HnswBuildWorkerData;
  let result: HnswBuildResult;
  try {
    const t0 = performance.now();
    const index = HnswVectorIndex.create(job.params);
    index.add(job.keys, job.vectors, job.threads);
    index.save(job.outPath);
    const size = index.size();
    index.close();
    result = { ok: true, size, ms: performance.now() - t0 };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    result = { ok: false, name: e.name, message: e.message, stack: e.stack };
  }
  parentPort.postMessage(result);
}
