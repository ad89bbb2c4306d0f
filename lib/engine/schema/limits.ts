/**
 * Schema limits of collections (Milvus's proxy defaults), in the engine so that every front door
 * (REST today, gRPC later) enforces the same ones through validate-spec.ts.
 */

/** Largest vector dimension (Milvus `proxy.maxDimension`). */
export const MAX_DIM = 32768;
/** Largest VarChar max_length (Milvus). */
export const MAX_VARCHAR_LENGTH = 65535;
/** Largest Array max_capacity (Milvus). */
export const MAX_ARRAY_CAPACITY = 4096;
/** Most fields per collection (Milvus `proxy.maxFieldNum`). */
export const MAX_FIELDS = 64;
/** Most vector fields per collection (Milvus `proxy.maxVectorFieldNum`). */
export const MAX_VECTOR_FIELDS = 4;
/** Most shards per collection. */
export const MAX_SHARDS = 16;
/** Longest name of a collection, field, partition, alias or index (Milvus `proxy.maxNameLength`). */
export const MAX_NAME_LENGTH = 255;
/** Smallest HNSW graph degree M. */
export const MIN_HNSW_M = 2;
/** Largest HNSW graph degree M. */
export const MAX_HNSW_M = 2048;
/** Smallest HNSW efConstruction. */
export const MIN_HNSW_EF_CONSTRUCTION = 1;
/** Largest HNSW efConstruction (int32). */
export const MAX_HNSW_EF_CONSTRUCTION = 2147483647;
