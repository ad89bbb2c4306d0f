/** Test data: a seeded PRNG, clustered vectors, collection specs. */
import type { CollectionSpec } from '../../lib/engine/database.ts';
import type { MetricType } from '../../lib/engine/ports/vector-index.ts';
import type { DataType, FieldSchema, IndexSpec } from '../../lib/engine/schema/types.ts';
import { rng } from '../../bench/data.ts';

export { rng };

/** `n` clustered vectors of `dim` dimensions (Gaussian-ish blobs), deterministic. */
export function clusteredVectors(n: number, dim: number, seed = 1, clusters = 32): Float32Array[] {
  const r = rng(seed);
  const gauss = () => {
    let u = 0;
    for (let i = 0; i < 6; i++) u += r();
    return u - 3;
  };
  const centers = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, () => gauss()));
  return Array.from({ length: n }, () => {
    const c = centers[Math.floor(r() * clusters)];
    return Float32Array.from(c, (x) => x + 0.35 * gauss());
  });
}

/** Row numbers of the exact top-`k` of `vs` by squared L2 distance to `q`, over the rows `pass` allows. */
export function exactTopK(vs: Float32Array[], q: Float32Array, k: number, pass: (i: number) => boolean): number[] {
  const scored: [number, number][] = [];
  for (let i = 0; i < vs.length; i++) {
    if (!pass(i)) continue;
    let s = 0;
    for (let j = 0; j < q.length; j++) s += (q[j] - vs[i][j]) ** 2;
    scored.push([i, s]);
  }
  scored.sort((a, b) => a[1] - b[1]);
  return scored.slice(0, k).map((x) => x[0]);
}

/** A collection spec: Int64 pk `id`, FloatVector `vector`, optional scalars, HNSW index, loaded. */
export function simpleSpec(
  name: string,
  dim: number,
  options: { metric?: MetricType; extraFields?: Partial<FieldSchema>[]; shards?: number; dynamic?: boolean; index?: Partial<IndexSpec> } = {},
): CollectionSpec {
  const fields: FieldSchema[] = [
    field(100, 'id', 'Int64', { isPrimary: true }),
    field(101, 'vector', 'FloatVector', { dim, typeParams: { dim: String(dim) } }),
    ...(options.extraFields ?? []).map((f, i) => field(102 + i, f.name!, f.dataType!, f)),
  ];
  return {
    name,
    description: '',
    schema: { fields, enableDynamicField: options.dynamic ?? false },
    shardsNum: options.shards ?? 1,
    consistencyLevel: 'Strong',
    properties: {},
    indexes: [
      {
        indexName: 'vector',
        fieldName: 'vector',
        indexType: 'HNSW',
        metricType: options.metric ?? 'L2',
        M: 16,
        efConstruction: 128,
        quantization: 'f32',
        params: {},
        ...options.index,
      },
    ],
    load: true,
  };
}

/** A field schema with the defaults filled in. */
export function field(fieldId: number, name: string, dataType: DataType, extra: Partial<FieldSchema> = {}): FieldSchema {
  return {
    fieldId,
    name,
    dataType,
    description: '',
    isPrimary: false,
    autoId: false,
    isPartitionKey: false,
    isClusteringKey: false,
    nullable: false,
    typeParams: {},
    ...extra,
  };
}
