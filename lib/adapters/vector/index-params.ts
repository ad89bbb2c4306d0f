/** Validation and defaults of VectorIndexParams shared by the vector index adapters. */
import { completeIndexParams, type MetricType, type Quantization, type VectorIndexParams } from '../../engine/ports/vector-index.ts';

/** Params with every default filled in. */
export type ResolvedIndexParams = Required<VectorIndexParams>;

const METRICS: ReadonlySet<string> = new Set<MetricType>(['L2', 'IP', 'COSINE']);
const QUANTIZATIONS: ReadonlySet<string> = new Set<Quantization>(['f32', 'f16', 'bf16', 'i8']);

/** Checks params (defaults come from the port's completeIndexParams, never from here); throws a RangeError naming the bad value. */
export function resolveIndexParams(params: VectorIndexParams): ResolvedIndexParams {
  const { dim, metric, M, efConstruction, quantization } = completeIndexParams(params);
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`vector index dim must be a positive integer, got ${dim}`);
  if (!METRICS.has(metric)) throw new RangeError(`vector index metric must be L2, IP or COSINE, got ${String(metric)}`);
  if (!Number.isInteger(M) || M < 2 || M > 2048) throw new RangeError(`HNSW M must be an integer in [2, 2048], got ${M}`);
  if (!Number.isInteger(efConstruction) || efConstruction < 1) {
    throw new RangeError(`HNSW efConstruction must be a positive integer, got ${efConstruction}`);
  }
  if (!QUANTIZATIONS.has(quantization)) throw new RangeError(`quantization must be f32, f16, bf16 or i8, got ${String(quantization)}`);
  if (quantization === 'i8' && metric !== 'COSINE') {
    // usearch maps floats to int8 by scaling, which only preserves scores for normalized (cosine) vectors.
    throw new RangeError(`quantization i8 gives wrong ${metric} scores; use it only with COSINE, or pick f16/bf16`);
  }
  return { dim, metric, M, efConstruction, quantization };
}

/** Throws unless `query` has `dim` floats. */
export function checkQuery(query: Float32Array, dim: number): void {
  if (!(query instanceof Float32Array) || query.length !== dim) {
    const got = query instanceof Float32Array ? `${query.length} floats` : typeof query;
    throw new RangeError(`query vector must be a Float32Array of ${dim} floats, got ${got}`);
  }
}

/** Throws unless `vectors` holds exactly `keys.length * dim` floats. */
export function checkAdd(keys: Uint32Array, vectors: Float32Array, dim: number): void {
  if (!(keys instanceof Uint32Array)) throw new TypeError('vector index keys must be a Uint32Array of row offsets');
  if (!(vectors instanceof Float32Array) || vectors.length !== keys.length * dim) {
    throw new RangeError(`expected ${keys.length} vectors × dim ${dim} = ${keys.length * dim} floats, got ${vectors?.length}`);
  }
}
