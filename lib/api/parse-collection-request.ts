/**
 * Turns a `collections/create` request body (REST v2, Milvus 2.5) into a validated CollectionSpec,
 * and holds the schema-level request validation shared with other endpoints (names, consistency
 * levels, index params).
 *
 * Two shapes, as Milvus:
 * - quick setup (no `schema.fields`): pk `id` (Int64, or VarChar with `params.max_length`) + FloatVector
 *   `vector` of `dimension`, metric `metricType` (default COSINE), dynamic field on, one AUTOINDEX
 *   named after the vector field, loaded at once;
 * - full schema: `schema.{autoID, enableDynamicField (default false), fields[]}` + optional
 *   `indexParams[]`; loaded iff indexParams were given.
 *
 * Index params (Migrans design): `indexType` HNSW | FLAT | AUTOINDEX (or `params.index_type`);
 * `metricType` L2 | IP | COSINE (or `params.metric_type`; default COSINE); HNSW/AUTOINDEX accept
 * `params.M` (2..2048) and `params.efConstruction` (1..2^31-1) as numbers or strings, and
 * `params.quantization` for the stored vectors: f32 (default) | f16 | bf16 | i8, with the aliases
 * float32/fp32/none, float16/fp16/half, bfloat16, int8/sq8 (case-insensitive). AUTOINDEX without
 * params builds HNSW with Milvus's AUTOINDEX defaults (M 18, efConstruction 240).
 *
 * Body keys of structs match case-insensitively (Go binding); map keys (`params`,
 * `elementTypeParams`, index `params`) are case-sensitive, as in Milvus.
 */
import { StructReader, missingRequired, type JsonObject } from './bind.ts';
import type { CollectionSpec } from '../engine/database.ts';
import { invalidParameter } from '../engine/errors.ts';
import { ErrorCode, MilvusError } from './error-codes.ts';
import { AUTOINDEX_EF_CONSTRUCTION, AUTOINDEX_M, DEFAULT_HNSW_EF_CONSTRUCTION, DEFAULT_HNSW_M, type MetricType, type Quantization } from '../engine/ports/vector-index.ts';
import {
  MAX_ARRAY_CAPACITY,
  MAX_FIELDS,
  MAX_HNSW_EF_CONSTRUCTION,
  MAX_HNSW_M,
  MAX_SHARDS,
  MAX_VARCHAR_LENGTH,
  MAX_VECTOR_FIELDS,
  MIN_HNSW_EF_CONSTRUCTION,
  MIN_HNSW_M,
} from '../engine/schema/limits.ts';
import { checkDim, validateName } from '../engine/schema/validate-spec.ts';

/** Name validation lives in the engine (lib/engine/schema/validate-spec.ts); re-exported for the routes. */
export { validateName, type NameKind } from '../engine/schema/validate-spec.ts';
import type { CollectionSchema, ConsistencyLevel, DataType, ElementType, FieldSchema, IndexSpec, Value } from '../engine/schema/types.ts';

/** VarChar pk max_length of a quick-setup collection without `params.max_length`. */
export const DEFAULT_QUICK_VARCHAR_LENGTH = 65535;

const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = ['Strong', 'Session', 'Bounded', 'Eventually', 'Customized'];
const METRICS: readonly MetricType[] = ['L2', 'IP', 'COSINE'];
const INDEX_TYPES: readonly IndexSpec['indexType'][] = ['HNSW', 'FLAT', 'AUTOINDEX'];
const DATA_TYPES: readonly DataType[] = ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar', 'JSON', 'Array', 'FloatVector'];
const ELEMENT_TYPES: readonly ElementType[] = ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar'];
/** Milvus types Migrans does not store yet (a clear 1100 instead of "invalid"). */
const UNSUPPORTED_TYPES = new Set(['BinaryVector', 'Float16Vector', 'BFloat16Vector', 'SparseFloatVector', 'Int8Vector', 'Geometry', 'Timestamptz']);
const QUANTIZATIONS: Record<string, Quantization> = {
  f32: 'f32',
  float32: 'f32',
  fp32: 'f32',
  none: 'f32',
  f16: 'f16',
  float16: 'f16',
  fp16: 'f16',
  half: 'f16',
  bf16: 'bf16',
  bfloat16: 'bf16',
  i8: 'i8',
  int8: 'i8',
  sq8: 'i8',
};
/** `params` keys that become collection properties (Milvus names). */
const PROPERTY_PARAMS: Record<string, string> = {
  ttlSeconds: 'collection.ttl.seconds',
  partitionKeyIsolation: 'partitionkey.isolation',
  'mmap.enabled': 'mmap.enabled',
};

/**
 * Parses a consistency level name (case-sensitive, as Milvus); throws 1100 with Milvus's message,
 * which differs between collection creation and the read endpoints.
 */
export function parseConsistencyLevel(value: string, context: 'create' | 'read' = 'read'): ConsistencyLevel {
  if ((CONSISTENCY_LEVELS as readonly string[]).includes(value)) return value as ConsistencyLevel;
  const names = CONSISTENCY_LEVELS.join(', ');
  if (context === 'create') {
    throw new MilvusError(ErrorCode.InvalidParameter, `consistencyLevel can only be [${names}], default: Bounded: invalid parameter[expected=${names}][actual=${value}]`);
  }
  throw invalidParameter(`consistencyLevel can only be [${names}], default: Bounded, err:parameter:'${value}' is incorrect, please check it`);
}

/** Parses a metric name (case-insensitive); throws 1100 naming the supported metrics. */
export function parseMetricType(value: string): MetricType {
  const upper = value.toUpperCase();
  if ((METRICS as readonly string[]).includes(upper)) return upper as MetricType;
  throw invalidParameter(`metric type '${value}' is not supported by Migrans; use one of ${METRICS.join(', ')} (FloatVector metrics)`);
}

/** Formats a param value as Milvus does with `%v` for scalars and JSON for the rest. */
function paramString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

/** Parses an integer given as a JSON number or a decimal string; undefined when it is not one. */
function parseIntLike(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** Reads an integer param within [min, max] or throws 1100 naming the param, the range and the value. */
function intParam(value: unknown, what: string, min: number, max: number): number {
  const n = parseIntLike(value);
  if (n === undefined || n < min || n > max) {
    throw invalidParameter(`${what} should be an integer in [${min}, ${max}], but got ${JSON.stringify(paramString(value))}`);
  }
  return n;
}

/** Parses Go's strconv.ParseBool forms of a `%v`-formatted value. */
function parseGoBool(value: unknown): boolean | undefined {
  const s = paramString(value);
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** Builds a CollectionSpec from a `collections/create` body; throws MilvusError on invalid input. */
export function parseCollectionRequest(body: unknown): CollectionSpec {
  const req = StructReader.of(body, 'CollectionReq');
  const name = req.string('collectionName', true);
  validateName('collection', name);
  const description = req.string('description') ?? '';
  const params = req.map('params') ?? {};
  const schemaReader = req.struct('schema', 'CollectionSchema');
  const fieldReaders = schemaReader?.structArray('fields', 'FieldSchema') ?? [];
  if (schemaReader) {
    const functions = schemaReader.array('functions');
    if (functions && functions.length > 0) {
      throw invalidParameter('schema.functions (e.g. BM25) are not supported by Migrans yet; remove them');
    }
  }

  let schema: CollectionSchema;
  let indexes: IndexSpec[];
  let load: boolean;
  if (fieldReaders.length === 0) {
    ({ schema, indexes } = quickSetup(req, params));
    load = true;
  } else {
    schema = fullSchema(schemaReader!, fieldReaders, name);
    indexes = parseIndexParams(req.structArray('indexParams', 'IndexParam') ?? [], schema);
    load = indexes.length > 0;
    if (load) {
      const missing = schema.fields.filter((f) => f.dataType === 'FloatVector' && !indexes.some((ix) => ix.fieldName === f.name)).map((f) => f.name);
      if (missing.length > 0) {
        throw invalidParameter(
          `indexParams must index every vector field so the collection can be loaded; missing: [${missing.join(', ')}]; ` +
            'add an index for each, or omit indexParams and create the indexes later',
        );
      }
    }
  }

  return {
    name,
    description,
    schema,
    shardsNum: params.shardsNum === undefined || params.shardsNum === null ? 1 : intParam(params.shardsNum, 'shardsNum', 1, MAX_SHARDS),
    consistencyLevel:
      params.consistencyLevel === undefined || params.consistencyLevel === null || params.consistencyLevel === ''
        ? 'Bounded'
        : parseConsistencyLevel(paramString(params.consistencyLevel), 'create'),
    properties: collectionProperties(params),
    indexes,
    load,
  };
}

function collectionProperties(params: JsonObject): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [key, prop] of Object.entries(PROPERTY_PARAMS)) {
    const v = params[key];
    if (v === undefined || v === null) continue;
    if (key === 'ttlSeconds') intParam(v, 'ttlSeconds', 0, Number.MAX_SAFE_INTEGER);
    if (key !== 'ttlSeconds' && parseGoBool(v) === undefined) {
      throw invalidParameter(`${key} should be true or false, but got ${JSON.stringify(paramString(v))}`);
    }
    properties[prop] = paramString(v);
  }
  return properties;
}

function baseField(fieldId: number, name: string, dataType: DataType): FieldSchema {
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
  };
}

function quickSetup(req: StructReader, params: JsonObject): { schema: CollectionSchema; indexes: IndexSpec[] } {
  const dim = req.int32('dimension');
  if (!dim) {
    throw new MilvusError(
      ErrorCode.InvalidParameter,
      'dimension is required for quickly create collection(default metric type: COSINE): invalid parameter' + '[expected=collectionName & dimension][actual=collectionName]',
    );
  }
  checkDim(dim, 'vector');
  const metricType = parseMetricType(req.string('metricType') || 'COSINE');
  const idType = req.string('idType') ?? '';
  let pkType: 'Int64' | 'VarChar';
  if (idType === '' || idType === 'Int64' || idType === 'int64') pkType = 'Int64';
  else if (idType === 'VarChar' || idType === 'Varchar') pkType = 'VarChar';
  else {
    throw new MilvusError(ErrorCode.InvalidParameter, `idType can only be [Int64, VarChar], default: Int64: invalid parameter[expected=Int64, Varchar][actual=${idType}]`);
  }
  const pkName = req.string('primaryFieldName') || 'id';
  const vectorName = req.string('vectorFieldName') || 'vector';
  validateName('field', pkName);
  validateName('field', vectorName);
  if (pkName === vectorName) throw invalidParameter(`duplicated field name ${pkName} found`);

  const pk = baseField(100, pkName, pkType);
  pk.isPrimary = true;
  pk.autoId = req.bool('autoID') ?? false;
  if (pkType === 'VarChar') {
    const raw = params.max_length;
    pk.maxLength = raw === undefined || raw === null ? DEFAULT_QUICK_VARCHAR_LENGTH : intParam(raw, 'max_length', 1, MAX_VARCHAR_LENGTH);
    pk.typeParams = { max_length: String(pk.maxLength) };
  }
  const vector = baseField(101, vectorName, 'FloatVector');
  vector.dim = dim;
  vector.typeParams = { dim: String(dim) };

  let enableDynamicField = true;
  if (params.enableDynamicField !== undefined && params.enableDynamicField !== null) {
    const b = parseGoBool(params.enableDynamicField);
    if (b === undefined) {
      throw invalidParameter(`parse enableDynamicField fail, err:strconv.ParseBool: parsing ${JSON.stringify(paramString(params.enableDynamicField))}: invalid syntax`);
    }
    enableDynamicField = b;
  }
  return {
    schema: { fields: [pk, vector], enableDynamicField },
    indexes: [
      {
        indexName: vectorName,
        fieldName: vectorName,
        indexType: 'AUTOINDEX',
        metricType,
        M: AUTOINDEX_M,
        efConstruction: AUTOINDEX_EF_CONSTRUCTION,
        quantization: 'f32',
        params: {},
      },
    ],
  };
}

function parseDataType(raw: string | undefined, what: 'data type' | 'element data type', field: string): DataType {
  const value = raw ?? '';
  if ((DATA_TYPES as readonly string[]).includes(value)) return value as DataType;
  if (value === 'String') {
    throw invalidParameter(`string data type not supported yet, please use VarChar type instead (field ${field})`);
  }
  if (UNSUPPORTED_TYPES.has(value)) {
    throw invalidParameter(`${what} ${value} of field ${field} is not supported by Migrans yet; supported: ${DATA_TYPES.join(', ')}`);
  }
  // Milvus's exact wording (it has no ": invalid parameter" suffix).
  throw new MilvusError(ErrorCode.InvalidParameter, `invalid parameter, ${what} ${value} is invalid(case sensitive).`);
}

function fullSchema(schemaReader: StructReader, fieldReaders: StructReader[], collection: string): CollectionSchema {
  const autoId = schemaReader.bool('autoID') ?? false;
  const enableDynamicField = schemaReader.bool('enableDynamicField') ?? false;
  if (fieldReaders.length > MAX_FIELDS) {
    throw invalidParameter(`maximum field's number should be limited to ${MAX_FIELDS}, but got ${fieldReaders.length}`);
  }
  const fields: FieldSchema[] = [];
  const seen = new Set<string>();
  fieldReaders.forEach((r, i) => {
    const field = parseField(r, 100 + i, collection);
    if (seen.has(field.name)) throw invalidParameter(`duplicated field name ${field.name} found`);
    seen.add(field.name);
    fields.push(field);
  });

  const pks = fields.filter((f) => f.isPrimary);
  if (pks.length === 0) {
    throw invalidParameter('primary key is not specified; mark exactly one Int64 or VarChar field with "isPrimary": true');
  }
  if (pks.length > 1) {
    throw invalidParameter(`there are more than one primary key, field name = ${pks.map((f) => f.name).join(', ')}`);
  }
  const pk = pks[0]!;
  if (pk.dataType !== 'Int64' && pk.dataType !== 'VarChar') {
    throw invalidParameter(`the data type of primary key should be Int64 or VarChar, but field ${pk.name} is ${pk.dataType}`);
  }
  if (pk.nullable) throw invalidParameter(`primary field not support null (field ${pk.name})`);
  if (pk.defaultValue !== undefined) throw invalidParameter(`primary field not support default_value (field ${pk.name})`);
  if (pk.isPartitionKey) throw invalidParameter(`the partition key field must not be primary field (field ${pk.name})`);
  pk.autoId = autoId;

  const vectors = fields.filter((f) => f.dataType === 'FloatVector');
  if (vectors.length === 0) {
    throw invalidParameter('schema does not contain vector field; add a FloatVector field with elementTypeParams.dim');
  }
  if (vectors.length > MAX_VECTOR_FIELDS) {
    throw invalidParameter(`maximum vector field's number should be limited to ${MAX_VECTOR_FIELDS}, but got ${vectors.length}`);
  }
  const partitionKeys = fields.filter((f) => f.isPartitionKey);
  if (partitionKeys.length > 1) {
    throw invalidParameter(`there are more than one partition key, field name = ${partitionKeys.map((f) => f.name).join(', ')}`);
  }
  const clusteringKeys = fields.filter((f) => f.isClusteringKey);
  if (clusteringKeys.length > 1) {
    throw invalidParameter(`there are more than one clustering key, field name = ${clusteringKeys.map((f) => f.name).join(', ')}`);
  }
  return { fields, enableDynamicField };
}

function parseField(r: StructReader, fieldId: number, collection: string): FieldSchema {
  const name = r.string('fieldName') ?? '';
  validateName('field', name);
  const dataType = parseDataType(r.string('dataType'), 'data type', name);
  const field = baseField(fieldId, name, dataType);
  field.description = r.string('description') ?? '';
  field.isPrimary = r.bool('isPrimary') ?? false;
  field.isPartitionKey = r.bool('isPartitionKey') ?? false;
  field.isClusteringKey = r.bool('isClusteringKey') ?? false;
  field.nullable = r.bool('nullable') ?? false;

  const typeParams = r.map('elementTypeParams') ?? {};
  for (const [k, v] of Object.entries(typeParams)) {
    if (v !== null && v !== undefined) field.typeParams[k] = paramString(v);
  }

  if (dataType === 'FloatVector') {
    if (typeParams.dim === undefined || typeParams.dim === null) {
      throw invalidParameter(`dimension is not defined in field type params of field ${name}, check type param \`dim\` for vector field`);
    }
    const dim = parseIntLike(typeParams.dim);
    if (dim === undefined) {
      throw invalidParameter(`dim of field ${name} should be an integer, but got ${JSON.stringify(paramString(typeParams.dim))}`);
    }
    checkDim(dim, name);
    field.dim = dim;
    field.typeParams.dim = String(dim);
    if (field.nullable) throw invalidParameter(`vector type not support null (field ${name})`);
  }
  if (dataType === 'VarChar' || (dataType === 'Array' && r.string('elementDataType') === 'VarChar')) {
    field.maxLength = maxLengthParam(typeParams.max_length, name, collection);
    field.typeParams.max_length = String(field.maxLength);
  }
  if (dataType === 'Array') {
    const elementType = parseDataType(r.string('elementDataType'), 'element data type', name);
    if (!(ELEMENT_TYPES as readonly string[]).includes(elementType)) {
      throw invalidParameter(`element type ${elementType} of array field ${name} is not supported; use one of ${ELEMENT_TYPES.join(', ')}`);
    }
    field.elementType = elementType as ElementType;
    const raw = typeParams.max_capacity;
    if (raw === undefined || raw === null) {
      throw invalidParameter(`type param(max_capacity) should be specified for array field ${name} of collection ${collection}`);
    }
    const cap = parseIntLike(raw);
    if (cap === undefined || cap < 1 || cap > MAX_ARRAY_CAPACITY) {
      throw invalidParameter(`the maximum capacity specified for a array should be in (0, ${MAX_ARRAY_CAPACITY}], but got ${paramString(raw)} instead, field: ${name}`);
    }
    field.maxCapacity = cap;
    field.typeParams.max_capacity = String(cap);
  }
  if (field.isPartitionKey && dataType !== 'Int64' && dataType !== 'VarChar') {
    throw invalidParameter(`the data type of partition key should be Int64 or VarChar, but field ${name} is ${dataType}`);
  }
  if (field.isPartitionKey && field.nullable) throw invalidParameter(`partition key field not support nullable (field ${name})`);

  const defaultValue = r.raw('defaultValue');
  if (defaultValue !== undefined) field.defaultValue = parseDefaultValue(field, defaultValue);
  return field;
}

function maxLengthParam(raw: unknown, field: string, collection: string): number {
  if (raw === undefined || raw === null) {
    throw invalidParameter(`type param(max_length) should be specified for the field(${field}) of collection ${collection}`);
  }
  const n = parseIntLike(raw);
  if (n === undefined || n < 1 || n > MAX_VARCHAR_LENGTH) {
    throw invalidParameter(`the maximum length specified for the field(${field}) should be in (0, ${MAX_VARCHAR_LENGTH}], but got ${paramString(raw)} instead`);
  }
  return n;
}

const INT_RANGES: Record<string, [number, number]> = {
  Int8: [-128, 127],
  Int16: [-32768, 32767],
  Int32: [-2147483648, 2147483647],
};

const DEFAULT_TARGET: Record<string, string> = {
  Bool: 'bool',
  Int8: 'int',
  Int16: 'int',
  Int32: 'int',
  Int64: 'long',
  Float: 'float',
  Double: 'double',
  VarChar: 'string',
};

/** The Go type name Milvus reports for a decoded JSON value. */
function goTypeOf(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return 'float64';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  return Array.isArray(value) ? '[]interface {}' : 'map[string]interface {}';
}

/** Checks a `defaultValue` against the field type (Milvus: JSON bool/number/string only, no JSON/Array/vector). */
function parseDefaultValue(field: FieldSchema, value: unknown): Value {
  // Milvus's text (utils.go convertDefaultValue), plus the field name and, for ranges, the bounds.
  const fail = (detail = ''): never => {
    throw invalidParameter(
      `convert defaultValue fail, err:cannot use "${paramString(value)}"(type: ${goTypeOf(value)}) as ` +
        `${DEFAULT_TARGET[field.dataType]} default value of field ${field.name}${detail}`,
    );
  };
  switch (field.dataType) {
    case 'Bool':
      return typeof value === 'boolean' ? value : fail();
    case 'Int8':
    case 'Int16':
    case 'Int32': {
      const [min, max] = INT_RANGES[field.dataType]!;
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number') return fail();
      return Number.isInteger(n) && n >= min && n <= max ? n : fail(` (${field.dataType} needs an integer in [${min}, ${max}])`);
    }
    case 'Int64': {
      if (typeof value === 'bigint') return value;
      if (typeof value !== 'number') return fail();
      return Number.isSafeInteger(value) ? BigInt(value) : fail(' (Int64 needs an integer)');
    }
    case 'Float': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number') return fail();
      return Number.isFinite(Math.fround(n)) ? Math.fround(n) : fail(' (out of the float32 range)');
    }
    case 'Double': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      return typeof n === 'number' ? n : fail();
    }
    case 'VarChar': {
      if (typeof value !== 'string') return fail();
      if (Buffer.byteLength(value, 'utf8') > field.maxLength!) fail(` (longer than max_length ${field.maxLength} bytes)`);
      return value;
    }
    default:
      throw invalidParameter(`Unexpected default value type: ${field.dataType} (field ${field.name} cannot have a defaultValue)`);
  }
}

/**
 * Converts REST `indexParams` items into IndexSpecs against a schema (collections/create and
 * indexes/create). Throws 1802 for a field not in the schema and 1100 for anything unsupported.
 */
export function parseIndexParams(items: StructReader[], schema: CollectionSchema): IndexSpec[] {
  const specs: IndexSpec[] = [];
  for (const item of items) {
    const fieldName = item.string('fieldName');
    if (!fieldName) throw missingRequired('IndexParam', 'fieldName');
    const field = schema.fields.find((f) => f.name === fieldName);
    if (!field) {
      throw new MilvusError(ErrorCode.MissingParameter, `missing required parameters, error: \`${fieldName}\` hasn't defined in schema`);
    }
    const params = item.map('params') ?? {};
    const indexName = item.string('indexName') || fieldName;
    validateName('index', indexName);
    const rawType = item.string('indexType') || (params.index_type !== undefined && params.index_type !== null ? paramString(params.index_type) : '') || 'AUTOINDEX';
    const indexType = rawType.toUpperCase() as IndexSpec['indexType'];
    if (!INDEX_TYPES.includes(indexType)) {
      throw invalidParameter(`index type ${rawType} is not supported by Migrans; supported: ${INDEX_TYPES.join(', ')} (on FloatVector fields)`);
    }
    if (field.dataType !== 'FloatVector') {
      throw invalidParameter(`field ${fieldName} is ${field.dataType}: Migrans builds indexes on FloatVector fields only (scalar indexes are not needed; filters scan columns)`);
    }
    const rawMetric = item.string('metricType') || (params.metric_type !== undefined && params.metric_type !== null ? paramString(params.metric_type) : '') || 'COSINE';
    const metricType = parseMetricType(rawMetric);
    const isAuto = indexType === 'AUTOINDEX';
    const M =
      params.M === undefined || params.M === null ? (isAuto ? AUTOINDEX_M : DEFAULT_HNSW_M) : intParam(params.M, `index param M of field ${fieldName}`, MIN_HNSW_M, MAX_HNSW_M);
    const efConstruction =
      params.efConstruction === undefined || params.efConstruction === null
        ? isAuto
          ? AUTOINDEX_EF_CONSTRUCTION
          : DEFAULT_HNSW_EF_CONSTRUCTION
        : intParam(params.efConstruction, `index param efConstruction of field ${fieldName}`, MIN_HNSW_EF_CONSTRUCTION, MAX_HNSW_EF_CONSTRUCTION);
    let quantization: Quantization = 'f32';
    if (params.quantization !== undefined && params.quantization !== null) {
      const q = QUANTIZATIONS[paramString(params.quantization).toLowerCase()];
      if (!q) {
        throw invalidParameter(`quantization ${JSON.stringify(paramString(params.quantization))} is not supported; use f32, f16, bf16 or i8`);
      }
      if (indexType === 'FLAT' && q !== 'f32') {
        throw invalidParameter('quantization applies to HNSW and AUTOINDEX indexes; FLAT always scans full-precision vectors');
      }
      quantization = q;
    }
    const echoed: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) echoed[k] = paramString(v);
    if (specs.some((s) => s.fieldName === fieldName)) {
      throw invalidParameter(`at most one distinct index is allowed per field; field ${fieldName} has more than one in indexParams`);
    }
    if (specs.some((s) => s.indexName === indexName)) {
      throw invalidParameter(`duplicate index name ${indexName} in indexParams`);
    }
    specs.push({ indexName, fieldName, indexType, metricType, M, efConstruction, quantization, params: echoed });
  }
  return specs;
}
