/** Collection schema types: Milvus's data model, as stored in the catalog and used by every role. */
import type { MetricType, Quantization } from '../ports/vector-index.ts';

/** Scalar and vector types Migrans stores (Milvus DataType enum names, case-sensitive on the wire). */
export type DataType = 'Bool' | 'Int8' | 'Int16' | 'Int32' | 'Int64' | 'Float' | 'Double' | 'VarChar' | 'JSON' | 'Array' | 'FloatVector';

/** Element types an Array field may hold. */
export type ElementType = 'Bool' | 'Int8' | 'Int16' | 'Int32' | 'Int64' | 'Float' | 'Double' | 'VarChar';

/**
 * A field value in memory. Int64 values are always `bigint` (Milvus ids exceed 2^53); Int8–Int32,
 * Float and Double are `number`; VarChar is `string`; JSON is the parsed JS value; Array is a JS array
 * of element values (bigint for Int64 elements); FloatVector is a Float32Array; null marks a null.
 */
export type Value = boolean | number | bigint | string | null | Float32Array | unknown[] | { [k: string]: unknown };

/** A primary key value: Int64 keys are bigint, VarChar keys are string. */
export type PrimaryKey = bigint | string;

/** One field of a collection schema. */
export interface FieldSchema {
  /** Milvus field id: 100, 101, … in declaration order. */
  fieldId: number;
  name: string;
  dataType: DataType;
  description: string;
  isPrimary: boolean;
  /** Only on the primary key: ids are assigned by the server. */
  autoId: boolean;
  isPartitionKey: boolean;
  isClusteringKey: boolean;
  nullable: boolean;
  /** Value used when an insert omits the field or sends null (typed like the field). */
  defaultValue?: Value;
  /** FloatVector only. */
  dim?: number;
  /** VarChar (and Array of VarChar elements): max length in UTF-8 bytes, as Milvus counts it. */
  maxLength?: number;
  /** Array only. */
  elementType?: ElementType;
  /** Array only: most elements one value may hold. */
  maxCapacity?: number;
  /** Type params as Milvus reports them in describe (`[{key, value}]`), values as strings. */
  typeParams: Record<string, string>;
}

/** A collection schema. */
export interface CollectionSchema {
  fields: FieldSchema[];
  /** Undeclared keys of inserted rows are kept in the hidden `$meta` JSON field. */
  enableDynamicField: boolean;
}

/** Consistency levels (proto common.ConsistencyLevel names). */
export type ConsistencyLevel = 'Strong' | 'Session' | 'Bounded' | 'Eventually' | 'Customized';

/** A vector index declared on a field (Milvus index description). */
export interface IndexSpec {
  indexName: string;
  fieldName: string;
  /** HNSW, FLAT or AUTOINDEX (AUTOINDEX is served as HNSW with default params). */
  indexType: 'HNSW' | 'FLAT' | 'AUTOINDEX';
  metricType: MetricType;
  /** HNSW M. */
  M: number;
  /** HNSW efConstruction. */
  efConstruction: number;
  quantization: Quantization;
  /** The params exactly as the client sent them (describe echoes them back), values as strings. */
  params: Record<string, string>;
}

/** Collection metadata as kept in the catalog. */
export interface CollectionInfo {
  /** Numeric id, unique for the life of the deployment. */
  collectionId: number;
  name: string;
  dbName: string;
  description: string;
  schema: CollectionSchema;
  shardsNum: number;
  consistencyLevel: ConsistencyLevel;
  /** Partition names; `_default` always exists. */
  partitions: string[];
  indexes: IndexSpec[];
  aliases: string[];
  properties: Record<string, string>;
  loaded: boolean;
  /** Hybrid timestamp of creation. */
  createdTs: bigint;
}
