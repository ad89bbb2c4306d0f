/**
 * Turns a `collections/create` request body (REST v2, Milvus 2.5) into a CollectionSpec, and holds
 * the wire parsing shared with other endpoints (consistency levels, metrics, index params). This
 * layer reads the wire shapes (types, Milvus's names, defaults); the rules of a schema — names,
 * limits, key fields, which fields an index may cover — are the engine's
 * (lib/engine/schema/validate-spec.ts), the same for every front door.
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

import type { CollectionSchema, ConsistencyLevel, DataType, ElementType, FieldSchema, IndexSpec, Value } from '../engine/schema/types.ts';

/** VarChar pk max_length of a quick-setup collection without `params.max_length`. */
export const DEFAULT_QUICK_VARCHAR_LENGTH = 65535;

const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = ['Strong', 'Session', 'Bounded', 'Eventually', 'Customized'];
const METRICS: readonly MetricType[] = ['L2', 'IP', 'COSINE'];
const INDEX_TYPES: readonly IndexSpec['indexType'][] = ['HNSW', 'FLAT', 'AUTOINDEX'];
const DATA_TYPES: readonly DataType[] = ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar', 'JSON', 'Array', 'FloatVector'];
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

/** Reads an integer param (a JSON number or a decimal string) or throws 1100 naming the param and the value; the engine checks its range. */
function intParam(value: unknown, what: string): number {
  const n = parseIntLike(value);
  if (n === undefined) throw invalidParameter(`${what} should be an integer, but got ${JSON.stringify(paramString(value))}`);
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
    schema = fullSchema(schemaReader!, fieldReaders);
    indexes = parseIndexParams(req.structArray('indexParams', 'IndexParam') ?? []);
    load = indexes.length > 0;
  }

  return {
    name,
    description,
    schema,
    shardsNum: params.shardsNum === undefined || params.shardsNum === null ? 1 : intParam(params.shardsNum, 'shardsNum'),
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
    if (key === 'ttlSeconds' && intParam(v, 'ttlSeconds') < 0) throw invalidParameter(`ttlSeconds should be a non-negative integer, but got ${JSON.stringify(paramString(v))}`);
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

  const pk = baseField(100, pkName, pkType);
  pk.isPrimary = true;
  pk.autoId = req.bool('autoID') ?? false;
  if (pkType === 'VarChar') {
    const raw = params.max_length;
    pk.maxLength = raw === undefined || raw === null ? DEFAULT_QUICK_VARCHAR_LENGTH : intParam(raw, 'max_length');
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

function fullSchema(schemaReader: StructReader, fieldReaders: StructReader[]): CollectionSchema {
  const autoId = schemaReader.bool('autoID') ?? false;
  const enableDynamicField = schemaReader.bool('enableDynamicField') ?? false;
  const fields = fieldReaders.map((r, i) => parseField(r, 100 + i));
  const pk = fields.find((f) => f.isPrimary);
  if (pk) pk.autoId = autoId;
  return { fields, enableDynamicField };
}

function parseField(r: StructReader, fieldId: number): FieldSchema {
  const name = r.string('fieldName') ?? '';
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
    field.dim = dim;
    field.typeParams.dim = String(dim);
  }
  if (dataType === 'Array') field.elementType = parseDataType(r.string('elementDataType'), 'element data type', name) as ElementType;
  if (typeParams.max_length !== undefined && typeParams.max_length !== null) {
    field.maxLength = intParam(typeParams.max_length, `max_length of field ${name}`);
    field.typeParams.max_length = String(field.maxLength);
  }
  if (typeParams.max_capacity !== undefined && typeParams.max_capacity !== null) {
    field.maxCapacity = intParam(typeParams.max_capacity, `max_capacity of field ${name}`);
    field.typeParams.max_capacity = String(field.maxCapacity);
  }

  const defaultValue = r.raw('defaultValue');
  if (defaultValue !== undefined) field.defaultValue = parseDefaultValue(field, defaultValue);
  return field;
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
 * Converts REST `indexParams` items into IndexSpecs with their defaults (collections/create and
 * indexes/create); throws 1100 for an index type, metric or quantization Migrans does not serve.
 * The engine checks them against the schema and the limits.
 */
export function parseIndexParams(items: StructReader[]): IndexSpec[] {
  const specs: IndexSpec[] = [];
  for (const item of items) {
    const fieldName = item.string('fieldName');
    if (!fieldName) throw missingRequired('IndexParam', 'fieldName');
    const params = item.map('params') ?? {};
    const indexName = item.string('indexName') || fieldName;
    const rawType = item.string('indexType') || (params.index_type !== undefined && params.index_type !== null ? paramString(params.index_type) : '') || 'AUTOINDEX';
    const indexType = rawType.toUpperCase() as IndexSpec['indexType'];
    if (!INDEX_TYPES.includes(indexType)) {
      throw invalidParameter(`index type ${rawType} is not supported by Migrans; supported: ${INDEX_TYPES.join(', ')} (on FloatVector fields)`);
    }
    const rawMetric = item.string('metricType') || (params.metric_type !== undefined && params.metric_type !== null ? paramString(params.metric_type) : '') || 'COSINE';
    const metricType = parseMetricType(rawMetric);
    const isAuto = indexType === 'AUTOINDEX';
    const M = params.M === undefined || params.M === null ? (isAuto ? AUTOINDEX_M : DEFAULT_HNSW_M) : intParam(params.M, `index param M of field ${fieldName}`);
    const efConstruction =
      params.efConstruction === undefined || params.efConstruction === null
        ? isAuto
          ? AUTOINDEX_EF_CONSTRUCTION
          : DEFAULT_HNSW_EF_CONSTRUCTION
        : intParam(params.efConstruction, `index param efConstruction of field ${fieldName}`);
    let quantization: Quantization = 'f32';
    if (params.quantization !== undefined && params.quantization !== null) {
      const q = QUANTIZATIONS[paramString(params.quantization).toLowerCase()];
      if (!q) {
        throw invalidParameter(`quantization ${JSON.stringify(paramString(params.quantization))} is not supported; use f32, f16, bf16 or i8`);
      }
      quantization = q;
    }
    const echoed: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) echoed[k] = paramString(v);
    specs.push({ indexName, fieldName, indexType, metricType, M, efConstruction, quantization, params: echoed });
  }
  return specs;
}
