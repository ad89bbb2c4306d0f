/** VectorIndex: approximate or exact nearest-neighbour search over one vector field of one segment. */

/** Milvus metric names. */
export type MetricType = 'L2' | 'IP' | 'COSINE';

/** How vectors are stored in the index (usearch quantization). */
export type Quantization = 'f32' | 'f16' | 'bf16' | 'i8';

/** HNSW graph degree when an HNSW index gives no M (the one place this default lives). */
export const DEFAULT_HNSW_M = 16;
/** HNSW construction beam when an HNSW index gives no efConstruction. */
export const DEFAULT_HNSW_EF_CONSTRUCTION = 128;
/** What AUTOINDEX builds (Milvus OSS `autoIndex.params.build`: HNSW M 18, efConstruction 240). */
export const AUTOINDEX_M = 18;
/** What AUTOINDEX builds (Milvus OSS `autoIndex.params.build`). */
export const AUTOINDEX_EF_CONSTRUCTION = 240;
/** HNSW search beam when a search gives no `ef` (recall ≥ 0.95 on clustered data); EngineConfig.defaultSearchEf can change it. */
export const DEFAULT_SEARCH_EF = 128;
/** Stored-vector precision when none is given. */
export const DEFAULT_QUANTIZATION: Quantization = 'f32';

/** Build parameters (Milvus index params). */
export interface VectorIndexParams {
  dim: number;
  metric: MetricType;
  /** HNSW graph degree (Milvus `M`); default DEFAULT_HNSW_M. */
  M?: number;
  /** HNSW construction beam (Milvus `efConstruction`); default DEFAULT_HNSW_EF_CONSTRUCTION. */
  efConstruction?: number;
  quantization?: Quantization;
}

/** Params with every default filled in (what the engine hands adapters). */
export function completeIndexParams(params: VectorIndexParams): Required<VectorIndexParams> {
  return {
    dim: params.dim,
    metric: params.metric,
    M: params.M ?? DEFAULT_HNSW_M,
    efConstruction: params.efConstruction ?? DEFAULT_HNSW_EF_CONSTRUCTION,
    quantization: params.quantization ?? DEFAULT_QUANTIZATION,
  };
}

/**
 * Search hits: `keys[i]` is the row offset within the segment, `scores[i]` the Milvus distance
 * (L2: squared euclidean, ascending; IP: inner product, descending; COSINE: cosine similarity, descending).
 */
export interface VectorHits {
  keys: Uint32Array;
  scores: Float32Array;
}

/** Options of one VectorIndex search. */
export interface VectorSearchOptions {
  ef?: number;
  accept?: (key: number) => boolean;
  exactBelowSelectivity?: number;
}

/** One segment's index of one vector field. */
export interface VectorIndex {
  readonly params: VectorIndexParams;
  /** Rows in the index. */
  size(): number;
  /** Adds vectors (flat, `keys.length * dim` floats) under the given row offsets. */
  add(keys: Uint32Array, vectors: Float32Array): void;
  /**
   * The `k` best hits for one query. `ef` widens the HNSW beam (ignored by exact indexes);
   * `accept` (when given) restricts results to offsets it returns true for. `exactBelowSelectivity`
   * (the engine's EngineConfig.exactSearchMaxSelectivity) tells an index holding the raw vectors to
   * scan them exactly when fewer than that fraction of rows pass `accept`; the index decides nothing itself.
   */
  search(query: Float32Array, k: number, options?: VectorSearchOptions): VectorHits;
  /** Writes the index to a local file. */
  save(path: string): void;
  /** Releases native memory or the memory map. */
  close(): void;
}

/** Builds and opens persisted vector indexes (the deployment picks the implementation). */
export interface VectorIndexFactory {
  /** Builds an HNSW index over `vectors` (keys = row offsets) and saves it to a local file, off the event loop. */
  build(vectors: Float32Array, keys: Uint32Array, params: VectorIndexParams, outPath: string): Promise<void>;
  /**
   * Opens a saved index file read-only (memory-mapped where the implementation can). `vectors`,
   * the indexed rows in key order, lets the index answer very selective filters exactly and
   * complete searches the graph cannot (rows unreachable in the graph). They may still be loading
   * (ports/lazy-vectors.ts): call `ensureVectors(vectors)` before reading them.
   */
  view(path: string, params: VectorIndexParams, vectors?: Float32Array): VectorIndex;
}
