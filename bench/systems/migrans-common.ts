/** What the two Migrans systems share: the collection they create and the engine settings. */
import type { CollectionSpec } from '../../lib/engine/database.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { field } from '../../test/support/data.ts';
import type { BenchContext } from './types.ts';

/** The collection every Migrans system creates. */
export const COLLECTION = 'bench';

/**
 * Engine settings of the benchmark: the defaults, except that background compaction is off so it
 * cannot start in the middle of a measurement (there is nothing for it to do in this workload).
 */
export const BENCH_ENGINE_CONFIG: Partial<EngineConfig> = { compactionIntervalMs: 0 };

/** The same settings as environment variables for `migrans serve`. */
export const BENCH_ENGINE_ENV: Record<string, string> = { MIGRANS_COMPACTION_INTERVAL_MS: '0' };

/** Int64 pk `id`, FloatVector `vector`, Int32 `bucket`; HNSW (COSINE, M, efConstruction, quantization). */
export function benchSpec(ctx: BenchContext, quantization: 'f32' | 'bf16'): CollectionSpec {
  const dim = ctx.ds.params.dim;
  return {
    name: COLLECTION,
    description: 'migrans bench',
    schema: {
      fields: [field(100, 'id', 'Int64', { isPrimary: true }), field(101, 'vector', 'FloatVector', { dim, typeParams: { dim: String(dim) } }), field(102, 'bucket', 'Int32')],
      enableDynamicField: false,
    },
    shardsNum: 1,
    consistencyLevel: 'Bounded',
    properties: {},
    indexes: [
      {
        indexName: 'vector',
        fieldName: 'vector',
        indexType: 'HNSW',
        metricType: 'COSINE',
        M: ctx.M,
        efConstruction: ctx.efConstruction,
        quantization,
        params: { M: String(ctx.M), efConstruction: String(ctx.efConstruction), quantization },
      },
    ],
    load: true,
  };
}

/** The same collection as a REST `collections/create` body. */
export function benchCreateBody(ctx: BenchContext, quantization: 'f32' | 'bf16'): object {
  return {
    collectionName: COLLECTION,
    schema: {
      autoId: false,
      enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: ctx.ds.params.dim } },
        { fieldName: 'bucket', dataType: 'Int32' },
      ],
    },
    indexParams: [
      {
        fieldName: 'vector',
        indexName: 'vector',
        metricType: 'COSINE',
        indexType: 'HNSW',
        params: { M: ctx.M, efConstruction: ctx.efConstruction, quantization },
      },
    ],
    params: { consistencyLevel: 'Bounded', shardsNum: 1 },
  };
}

/** Runs `total` batches through `send` with `concurrency` requests in flight. */
export async function ingestBatches(total: number, concurrency: number, send: (batch: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const b = next++;
      if (b >= total) return;
      await send(b);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
