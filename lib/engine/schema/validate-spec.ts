/**
 * Validation of a CollectionSpec and of IndexSpecs against the schema limits (limits.ts), run by
 * EngineDatabase.createCollection / createIndex so every front door gets the same rules and the
 * same typed errors (1100, with Milvus's wording, as REST clients see them).
 */
import type { CollectionSpec } from '../database.ts';
import { MissingParameterError, invalidParameter } from '../errors.ts';
import type { CollectionSchema, FieldSchema, IndexSpec } from './types.ts';
import {
  MAX_ARRAY_CAPACITY,
  MAX_DIM,
  MAX_FIELDS,
  MAX_HNSW_EF_CONSTRUCTION,
  MAX_HNSW_M,
  MAX_NAME_LENGTH,
  MAX_SHARDS,
  MAX_VARCHAR_LENGTH,
  MAX_VECTOR_FIELDS,
  MIN_HNSW_EF_CONSTRUCTION,
  MIN_HNSW_M,
} from './limits.ts';

/** What a name names, for validation messages. */
export type NameKind = 'collection' | 'field' | 'partition' | 'alias' | 'index' | 'database';

/**
 * Validates a collection/field/partition/alias/index/database name with Milvus's rule
 * (`^[a-zA-Z_][a-zA-Z0-9_]*$`, at most MAX_NAME_LENGTH characters); throws 1100 with Milvus-like wording.
 */
export function validateName(kind: NameKind, name: string): void {
  const label = kind === 'alias' ? 'collection alias' : `${kind} name`;
  if (name === '') throw invalidParameter(`${label} should not be empty`);
  const invalid = `Invalid ${label}: ${name}.`;
  if (name.length > MAX_NAME_LENGTH) {
    throw invalidParameter(`${invalid} the length of a ${label} must be less than ${MAX_NAME_LENGTH} characters`);
  }
  const first = name.charCodeAt(0);
  if (!(first === 95 || isAsciiLetter(first))) {
    throw invalidParameter(`${invalid} the first character of a ${label} must be an underscore or letter`);
  }
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(c === 95 || isAsciiLetter(c) || (c >= 48 && c <= 57))) {
      throw invalidParameter(`${invalid} ${label} can only contain numbers, letters and underscores`);
    }
  }
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Throws 1100 unless `n` is an integer in [min, max] (the REST parser words wire-shape failures the same way). */
export function checkIntRange(n: number, what: string, min: number, max: number): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidParameter(`${what} should be an integer in [${min}, ${max}], but got ${JSON.stringify(String(n))}`);
}

/** Throws 1100 unless a vector dimension is within [1, MAX_DIM]. */
export function checkDim(dim: number, field: string): void {
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) {
    throw invalidParameter(`invalid dimension: ${dim} of field ${field}. should be in range 1 ~ ${MAX_DIM}`);
  }
}

/** Throws 1100 unless a VarChar max_length is within (0, MAX_VARCHAR_LENGTH]. */
export function checkMaxLength(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_VARCHAR_LENGTH) {
    throw invalidParameter(`the maximum length specified for the field(${field}) should be in (0, ${MAX_VARCHAR_LENGTH}], but got ${n} instead`);
  }
}

/** Throws 1100 unless an Array max_capacity is within (0, MAX_ARRAY_CAPACITY]. */
export function checkMaxCapacity(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ARRAY_CAPACITY) {
    throw invalidParameter(`the maximum capacity specified for a array should be in (0, ${MAX_ARRAY_CAPACITY}], but got ${n} instead, field: ${field}`);
  }
}

/** Element types an Array field may hold. */
const ELEMENT_TYPES: readonly string[] = ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar'];

/** Checks one field's type parameters: dim, max_length, max_capacity, element type, nullability of vectors. */
function validateField(f: FieldSchema, collection: string): void {
  validateName('field', f.name);
  if (f.dataType === 'FloatVector') {
    checkDim(f.dim ?? 0, f.name);
    if (f.nullable) throw invalidParameter(`vector type not support null (field ${f.name})`);
  }
  const hasLength = f.dataType === 'VarChar' || (f.dataType === 'Array' && f.elementType === 'VarChar');
  if (hasLength && f.maxLength === undefined) throw invalidParameter(`type param(max_length) should be specified for the field(${f.name}) of collection ${collection}`);
  if (f.maxLength !== undefined) checkMaxLength(f.maxLength, f.name);
  if (f.dataType === 'Array') {
    if (!f.elementType || !ELEMENT_TYPES.includes(f.elementType))
      throw invalidParameter(`element type ${f.elementType} of array field ${f.name} is not supported; use one of ${ELEMENT_TYPES.join(', ')}`);
    if (f.maxCapacity === undefined) throw invalidParameter(`type param(max_capacity) should be specified for array field ${f.name} of collection ${collection}`);
  }
  if (f.maxCapacity !== undefined) checkMaxCapacity(f.maxCapacity, f.name);
}

/** Checks the key fields: one primary key, at most one partition key and one clustering key, each of an allowed type. */
function validateKeys(fields: readonly FieldSchema[]): void {
  const pks = fields.filter((f) => f.isPrimary);
  if (pks.length === 0) throw invalidParameter('primary key is not specified; mark exactly one Int64 or VarChar field with "isPrimary": true');
  if (pks.length > 1) throw invalidParameter(`there are more than one primary key, field name = ${pks.map((f) => f.name).join(', ')}`);
  const pk = pks[0];
  if (pk.dataType !== 'Int64' && pk.dataType !== 'VarChar')
    throw invalidParameter(`the data type of primary key should be Int64 or VarChar, but field ${pk.name} is ${pk.dataType}`);
  if (pk.nullable) throw invalidParameter(`primary field not support null (field ${pk.name})`);
  if (pk.defaultValue !== undefined) throw invalidParameter(`primary field not support default_value (field ${pk.name})`);
  if (pk.isPartitionKey) throw invalidParameter(`the partition key field must not be primary field (field ${pk.name})`);
  const partitionKeys = fields.filter((f) => f.isPartitionKey);
  if (partitionKeys.length > 1) throw invalidParameter(`there are more than one partition key, field name = ${partitionKeys.map((f) => f.name).join(', ')}`);
  for (const f of partitionKeys) {
    if (f.dataType !== 'Int64' && f.dataType !== 'VarChar')
      throw invalidParameter(`the data type of partition key should be Int64 or VarChar, but field ${f.name} is ${f.dataType}`);
    if (f.nullable) throw invalidParameter(`partition key field not support nullable (field ${f.name})`);
  }
  const clusteringKeys = fields.filter((f) => f.isClusteringKey);
  if (clusteringKeys.length > 1) throw invalidParameter(`there are more than one clustering key, field name = ${clusteringKeys.map((f) => f.name).join(', ')}`);
}

/** Checks a schema: field count, names, duplicates, each field's type parameters, the key fields, the vector fields' count. */
export function validateSchema(schema: CollectionSchema, collection: string): void {
  if (schema.fields.length > MAX_FIELDS) throw invalidParameter(`maximum field's number should be limited to ${MAX_FIELDS}, but got ${schema.fields.length}`);
  const seen = new Set<string>();
  for (const f of schema.fields) {
    if (seen.has(f.name)) throw invalidParameter(`duplicated field name ${f.name} found`);
    seen.add(f.name);
    validateField(f, collection);
  }
  validateKeys(schema.fields);
  const vectors = schema.fields.filter((f) => f.dataType === 'FloatVector').length;
  if (vectors === 0) throw invalidParameter('schema does not contain vector field; add a FloatVector field with elementTypeParams.dim');
  if (vectors > MAX_VECTOR_FIELDS) throw invalidParameter(`maximum vector field's number should be limited to ${MAX_VECTOR_FIELDS}, but got ${vectors}`);
}

/**
 * Checks index specs against their schema: the field exists and is a vector field, index names,
 * HNSW M / efConstruction ranges, one index per field and per name.
 */
export function validateIndexSpecs(specs: readonly IndexSpec[], schema: CollectionSchema): void {
  specs.forEach((s, i) => {
    const field = schema.fields.find((f) => f.name === s.fieldName);
    if (!field) throw new MissingParameterError(s.fieldName, `missing required parameters, error: \`${s.fieldName}\` hasn't defined in schema`);
    if (field.dataType !== 'FloatVector')
      throw invalidParameter(`${s.indexType} index is for vector fields; ${field.name} is ${field.dataType} (scalar indexes are not supported yet)`);
    validateName('index', s.indexName);
    checkIntRange(s.M, `index param M of field ${s.fieldName}`, MIN_HNSW_M, MAX_HNSW_M);
    checkIntRange(s.efConstruction, `index param efConstruction of field ${s.fieldName}`, MIN_HNSW_EF_CONSTRUCTION, MAX_HNSW_EF_CONSTRUCTION);
    if (s.indexType === 'FLAT' && s.quantization !== 'f32') {
      throw invalidParameter('quantization applies to HNSW and AUTOINDEX indexes; FLAT always scans full-precision vectors');
    }
    const earlier = specs.slice(0, i);
    if (earlier.some((e) => e.fieldName === s.fieldName)) {
      throw invalidParameter(`at most one distinct index is allowed per field; field ${s.fieldName} has more than one in indexParams`);
    }
    if (earlier.some((e) => e.indexName === s.indexName)) throw invalidParameter(`duplicate index name ${s.indexName} in indexParams`);
  });
}

/** Validates a whole CollectionSpec (name, shards, schema, indexes; a collection loaded at creation indexes every vector field); throws the engine's typed errors. */
export function validateCollectionSpec(spec: CollectionSpec): void {
  validateName('collection', spec.name);
  checkIntRange(spec.shardsNum, 'shardsNum', 1, MAX_SHARDS);
  validateSchema(spec.schema, spec.name);
  validateIndexSpecs(spec.indexes, spec.schema);
  if (!spec.load) return;
  const missing = spec.schema.fields.filter((f) => f.dataType === 'FloatVector' && !spec.indexes.some((ix) => ix.fieldName === f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw invalidParameter(
      `indexParams must index every vector field so the collection can be loaded; missing: [${missing.join(', ')}]; ` +
        'add an index for each, or omit indexParams and create the indexes later',
    );
  }
}
