/** The VectorIndexFactory of every deployment: usearch HNSW, built in a worker, opened memory-mapped. */
import type { VectorIndex, VectorIndexFactory, VectorIndexParams } from '../../engine/ports/vector-index.ts';
import { buildHnswIndex } from './build-hnsw-in-worker.ts';
import { HnswVectorIndex } from './hnsw-vector-index.ts';

/** Builds HNSW files off the event loop and views them with usearch's memory map. */
export class UsearchIndexFactory implements VectorIndexFactory {
  build(vectors: Float32Array, keys: Uint32Array, params: VectorIndexParams, outPath: string): Promise<void> {
    return buildHnswIndex(vectors, keys, params, outPath);
  }

  view(path: string, params: VectorIndexParams, vectors?: Float32Array): VectorIndex {
    return HnswVectorIndex.view(path, params, { vectors });
  }
}
