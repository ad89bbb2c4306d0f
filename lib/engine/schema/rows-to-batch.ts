/**
 * Validates the JSON rows of an insert or upsert against a collection schema and turns them into a
 * columnar InsertBatch, with Milvus 2.5's acceptance rules (REST `entities/insert`, reference §3.4):
 *
 * | type | accepted |
 * |---|---|
 * | Bool | true/false, 0/1, and Go ParseBool strings ("true", "1", "T", "FALSE", …) |
 * | Int8/16/32 | integers or integer strings ("12", "12.0"), range-checked |
 * | Int64 | number (integer), bigint or a decimal string, in the int64 range → bigint |
 * | Float / Double | numbers or numeric strings; NaN/Infinity (and float32 overflow for Float) rejected; Float is rounded to float32 |
 * | VarChar | strings; numbers and booleans are taken as their text (Milvus uses gjson's string form); objects/arrays rejected. `max_length` counts UTF-8 bytes, as Milvus does |
 * | JSON | any JSON value nested at most MAX_JSON_DEPTH (256) levels; a string is parsed as JSON text (Milvus stores its content), so a JSON string scalar is sent as "\"text\"" |
 * | Array | a JSON array (or a string holding one) of the element type (strict: no numeric strings, as Go's decoder), ≤ max_capacity elements |
 * | FloatVector | an array (or a string holding one) of exactly `dim` finite numbers → Float32Array |
 *
 * Missing or null values of nullable / defaulted fields become the default, else null. The primary
 * key is never nullable; with autoID it must be absent on insert and present on upsert. Keys outside
 * the schema go to the dynamic field (`$meta`) when enabled (nulls skipped, `$meta` itself rejected),
 * else the row is rejected; dynamic values obey the JSON depth limit too. An autoID insert holds at
 * most MAX_AUTOID_BATCH (2^18) rows. The whole batch is checked before the engine appends any of
 * it, so a bad row changes nothing. Every error is code 1804 with Milvus's prefix and names the row, the field,
 * the expected type and the value received. Rows are returned as given: duplicate keys are the
 * engine's business (it keeps the last).
 */
import { parse as parseLossless } from 'lossless-json';
import { BadInsertDataError } from '../errors.ts';
import { MAX_AUTOID_BATCH, MAX_JSON_DEPTH, jsonDepth } from '../request-limits.ts';
import type { InsertBatch } from './batch.ts';
import type { CollectionSchema, ElementType, FieldSchema, Value } from './types.ts';

/** Milvus's 1804 prefix. */
const PREFIX = 'fail to deal the insert data, error: ';
const MAX_SHOWN = 100;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_RANGES: Record<string, readonly [number, number]> = {
  Int8: [-128, 127],
  Int16: [-32768, 32767],
  Int32: [-2147483648, 2147483647],
};
const INT_STRING = /^[+-]?\d+(\.0*)?$/;
const INT64_STRING = /^[+-]?\d+$/;
const FLOAT_STRING = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_STRINGS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_STRINGS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

type Converter = (value: unknown, row: number) => Value;

interface FieldPlan {
  field: FieldSchema;
  column: Value[];
  convert: Converter;
  /** Value for a missing/null entry; undefined when that is an error. */
  fallback: Value | undefined;
}

/** Shows a received value in an error message: JSON-like, bigint-safe, at most ~100 characters. */
export function showValue(value: unknown): string {
  let s: string;
  if (value === undefined) s = '<missing>';
  else if (typeof value === 'bigint') s = value.toString();
  else if (value instanceof Float32Array) s = `[${Array.from(value.subarray(0, 20)).join(',')}${value.length > 20 ? ',…' : ''}]`;
  else {
    try {
      s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

/** A 1804 error for one value, in Milvus's merr shape `msg: invalid parameter[expected=…][actual=…]`. */
function badValue(row: number, field: string, problem: string, expected: string, value: unknown): BadInsertDataError {
  return new BadInsertDataError(`${PREFIX}row ${row}, field ${field}: ${problem}: invalid parameter[expected=${expected}][actual=${showValue(value)}]`, row, field);
}

/** A 1804 error for a whole-row problem. */
function badRow(message: string): BadInsertDataError {
  return new BadInsertDataError(`${PREFIX}${message}: invalid parameter`);
}

/** Parses JSON text keeping integers beyond 2^53 exact (as bigint). */
function parseJsonText(text: string): unknown {
  return parseLossless(text, null, (s: string) => {
    const n = Number(s);
    if (Number.isSafeInteger(n) || !INT64_STRING.test(s)) return n;
    return BigInt(s);
  });
}

/** UTF-8 byte length, skipping the count when the string is obviously short enough. */
function fitsBytes(s: string, max: number): boolean {
  // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  if (s.length * 3 <= max) return true;
  return Buffer.byteLength(s, 'utf8') <= max;
}

function boolConverter(name: string): Converter {
  return (v, row) => {
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    if (typeof v === 'string') {
      if (TRUE_STRINGS.has(v)) return true;
      if (FALSE_STRINGS.has(v)) return false;
    }
    throw badValue(row, name, 'not a boolean (true/false, 0/1 or "true"/"false")', 'Bool', v);
  };
}

function smallIntConverter(name: string, type: 'Int8' | 'Int16' | 'Int32'): Converter {
  const [min, max] = INT_RANGES[type]!;
  const expected = `${type} (integer in [${min}, ${max}])`;
  return (v, row) => {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && INT_STRING.test(v)) n = Number.parseInt(v, 10);
    else if (typeof v === 'bigint') n = Number(v);
    else throw badValue(row, name, 'not an integer', type, v);
    if (!Number.isInteger(n)) throw badValue(row, name, 'not an integer', type, v);
    if (n < min || n > max) throw badValue(row, name, `out of range [${min}, ${max}]`, expected, v);
    return n;
  };
}

function int64Converter(name: string): Converter {
  return (v, row) => {
    let b: bigint;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw badValue(row, name, 'not an integer', 'Int64', v);
      b = BigInt(v);
    } else if (typeof v === 'string' && INT64_STRING.test(v)) b = BigInt(v);
    else throw badValue(row, name, 'not an integer (send a JSON integer or a decimal string)', 'Int64', v);
    if (b < INT64_MIN || b > INT64_MAX) throw badValue(row, name, 'out of the int64 range', 'Int64', v);
    return b;
  };
}

function floatConverter(name: string, type: 'Float' | 'Double'): Converter {
  const single = type === 'Float';
  return (v, row) => {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && FLOAT_STRING.test(v)) n = Number(v);
    else if (typeof v === 'bigint') n = Number(v);
    else throw badValue(row, name, 'not a number', type, v);
    if (single) n = Math.fround(n);
    if (n - n !== 0) throw badValue(row, name, `not a finite ${single ? 'float32' : 'float64'} number`, type, v);
    return n;
  };
}

function varcharConverter(name: string, maxLength: number): Converter {
  return (v, row) => {
    let s: string;
    if (typeof v === 'string') s = v;
    else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') s = String(v);
    else throw badValue(row, name, 'not a string', 'VarChar', v);
    if (!fitsBytes(s, maxLength)) {
      throw badValue(row, name, `the length (${Buffer.byteLength(s, 'utf8')} bytes in UTF-8) exceeds max_length (${maxLength})`, `VarChar(${maxLength})`, v);
    }
    return s;
  };
}

/** Refuses a JSON value nested deeper than MAX_JSON_DEPTH (it would overflow the stack of every codec after it). */
function checkDepth(v: unknown, row: number, name: string): void {
  if (typeof v !== 'object' || v === null) return;
  const depth = jsonDepth(v, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw badRow(
      `row ${row}, field ${name}: the JSON value nests more than ${MAX_JSON_DEPTH} levels deep; the limit is ${MAX_JSON_DEPTH}: flatten it, or store it as a VarChar string`,
    );
  }
}

function jsonConverter(name: string): Converter {
  return (v, row) => {
    if (typeof v !== 'string') {
      checkDepth(v, row, name);
      return v as Value;
    }
    let parsed: unknown;
    try {
      parsed = parseJsonText(v);
    } catch (err) {
      // lossless-json recurses: text nested deep enough overflows its stack before any depth check.
      if (err instanceof RangeError) {
        let deep: unknown;
        try {
          deep = JSON.parse(v);
        } catch {
          deep = undefined;
        }
        checkDepth(deep, row, name);
      }
      throw badValue(row, name, 'a string for a JSON field must hold JSON text (send objects as they are; a JSON string as "\\"text\\"")', 'JSON', v);
    }
    checkDepth(parsed, row, name);
    return parsed as Value;
  };
}

/** Accepts an array, or a string holding a JSON array (Milvus decodes the string's content). */
function asArray(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string' && v.trimStart().startsWith('[')) {
    try {
      const parsed = parseJsonText(v);
      return Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function elementChecker(elementType: ElementType, maxLength: number | undefined): (x: unknown) => Value | undefined {
  switch (elementType) {
    case 'Bool':
      return (x) => (typeof x === 'boolean' ? x : undefined);
    case 'Int8':
    case 'Int16':
    case 'Int32': {
      const [min, max] = INT_RANGES[elementType]!;
      return (x) => (typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max ? x : undefined);
    }
    case 'Int64':
      return (x) => {
        const b = typeof x === 'bigint' ? x : typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : undefined;
        return b !== undefined && b >= INT64_MIN && b <= INT64_MAX ? b : undefined;
      };
    case 'Float':
      return (x) => {
        if (typeof x !== 'number') return undefined;
        const f = Math.fround(x);
        return f - f === 0 ? f : undefined;
      };
    case 'Double':
      return (x) => (typeof x === 'number' && x - x === 0 ? x : undefined);
    case 'VarChar':
      return (x) => (typeof x === 'string' && fitsBytes(x, maxLength ?? Infinity) ? x : undefined);
  }
}

function arrayConverter(field: FieldSchema): Converter {
  const elementType = field.elementType!;
  const capacity = field.maxCapacity ?? Infinity;
  const check = elementChecker(elementType, field.maxLength);
  const expected = `Array of ${elementType}${elementType === 'VarChar' ? `(${field.maxLength})` : ''}`;
  return (v, row) => {
    const arr = asArray(v);
    if (!arr) throw badValue(row, field.name, 'not a JSON array', expected, v);
    if (arr.length > capacity) {
      throw badValue(row, field.name, `${arr.length} elements exceed max_capacity (${capacity})`, expected, v);
    }
    const out = new Array<Value>(arr.length);
    for (let j = 0; j < arr.length; j++) {
      const x = check(arr[j]);
      if (x === undefined) {
        throw badValue(row, field.name, `element ${j} (${showValue(arr[j])}) is not a valid ${elementType}`, expected, v);
      }
      out[j] = x;
    }
    return out;
  };
}

function vectorConverter(name: string, dim: number): Converter {
  const expected = `FloatVector(dim=${dim})`;
  return (v, row) => {
    const arr = asArray(v);
    if (!arr) throw badValue(row, name, 'not an array of numbers', expected, v);
    if (arr.length !== dim) {
      throw badValue(row, name, `dimension mismatch: the vector has ${arr.length} values, the field's dim is ${dim}`, expected, v);
    }
    const out = new Float32Array(dim);
    for (let j = 0; j < dim; j++) {
      const x = arr[j];
      if (typeof x !== 'number') throw badValue(row, name, `element ${j} (${showValue(x)}) is not a number`, expected, v);
      out[j] = x;
    }
    // Second pass over the float32 values: NaN, ±Infinity and float32 overflow all make y - y non-zero.
    let bad = 0;
    for (let j = 0; j < dim; j++) {
      const y = out[j]!;
      bad += y - y;
    }
    if (bad !== 0) {
      const j = out.findIndex((y) => y - y !== 0);
      throw badValue(row, name, `element ${j} (${showValue(arr[j])}) is not a finite float32`, expected, v);
    }
    return out;
  };
}

function converterFor(field: FieldSchema): Converter {
  switch (field.dataType) {
    case 'Bool':
      return boolConverter(field.name);
    case 'Int8':
    case 'Int16':
    case 'Int32':
      return smallIntConverter(field.name, field.dataType);
    case 'Int64':
      return int64Converter(field.name);
    case 'Float':
    case 'Double':
      return floatConverter(field.name, field.dataType);
    case 'VarChar':
      return varcharConverter(field.name, field.maxLength ?? 65535);
    case 'JSON':
      return jsonConverter(field.name);
    case 'Array':
      return arrayConverter(field);
    case 'FloatVector':
      return vectorConverter(field.name, field.dim!);
  }
}

/**
 * Validates raw insert/upsert rows against `schema` and returns them as columns (see the module
 * comment for the rules). Throws BadInsertDataError (Milvus 1804) naming the first bad row and field; nothing is
 * partially converted from the caller's point of view.
 */
export function rowsToBatch(schema: CollectionSchema, rows: unknown[], mode: 'insert' | 'upsert'): InsertBatch {
  if (!Array.isArray(rows)) throw badRow(`\`data\` must be an array of row objects, got ${showValue(rows)}`);
  const n = rows.length;
  if (n === 0) throw badRow('missing required parameters: `data` is empty; send at least one row');
  const autoId = schema.fields.some((f) => f.isPrimary && f.autoId);
  if (autoId && mode === 'insert' && n > MAX_AUTOID_BATCH) {
    throw badRow(`an insert into an autoID collection takes at most ${MAX_AUTOID_BATCH} rows, but \`data\` has ${n}: split it into smaller requests`);
  }

  const known: Record<string, true> = Object.create(null);
  const plans: FieldPlan[] = [];
  const columns = new Map<string, Value[]>();
  let autoIdPk: FieldSchema | undefined;
  for (const field of schema.fields) {
    known[field.name] = true;
    if (field.isPrimary && field.autoId && mode === 'insert') {
      autoIdPk = field;
      continue;
    }
    const column = new Array<Value>(n);
    columns.set(field.name, column);
    let fallback: Value | undefined;
    if (!field.isPrimary) {
      if (field.defaultValue !== undefined) fallback = field.defaultValue;
      else if (field.nullable) fallback = null;
    }
    plans.push({ field, column, convert: converterFor(field), fallback });
  }
  const dynamicEnabled = schema.enableDynamicField;
  const dynamic: (Record<string, unknown> | null)[] | null = dynamicEnabled ? new Array(n) : null;

  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw badRow(`row ${i} is not a JSON object (got ${showValue(row)}); each element of \`data\` must be {"field": value, …}`);
    }
    const obj = row as Record<string, unknown>;
    if (autoIdPk) {
      const v = obj[autoIdPk.name];
      if (v !== undefined && v !== null) {
        throw badRow(`no need to pass pk field(${autoIdPk.name}) when autoid==true in insert`);
      }
    }
    for (let p = 0; p < plans.length; p++) {
      const plan = plans[p]!;
      const v = obj[plan.field.name];
      if (v === undefined || v === null) {
        if (plan.fallback !== undefined) {
          plan.column[i] = plan.fallback;
          continue;
        }
        throw missingValue(i, plan.field, v, mode);
      }
      plan.column[i] = plan.convert(v, i);
    }
    // Keys outside the schema: dynamic fields, or an error without a dynamic schema.
    let meta: Record<string, unknown> | null = null;
    for (const key in obj) {
      if (known[key] === true) continue;
      if (!dynamicEnabled) {
        throw badRow(
          `has pass more field without dynamic schema, please check it (row ${i} has key ${showValue(key)}, ` +
            `which is not a field of the collection; remove it or create the collection with enableDynamicField)`,
        );
      }
      if (key === '$meta') throw badRow(`use the invalid field name($meta) when enable dynamicField (row ${i})`);
      const v = obj[key];
      if (v === null || v === undefined) continue;
      checkDepth(v, i, key);
      meta ??= {};
      if (key === '__proto__') Object.defineProperty(meta, key, { value: v, enumerable: true, writable: true, configurable: true });
      else meta[key] = v;
    }
    if (dynamic) dynamic[i] = meta ?? {};
  }
  return { rowCount: n, columns, dynamic };
}

function missingValue(row: number, field: FieldSchema, v: unknown, mode: 'insert' | 'upsert'): BadInsertDataError {
  const expected = field.dataType === 'FloatVector' ? `FloatVector(dim=${field.dim})` : field.dataType;
  if (field.isPrimary) {
    const why =
      field.autoId && mode === 'upsert'
        ? `upsert needs the primary key ${field.name} of every row (autoID too), to know which row to replace`
        : `the primary key ${field.name} is required and cannot be null`;
    return badValue(row, field.name, why, expected, v);
  }
  const what = v === null ? `row ${row} has null for field ${field.name}, which is not nullable` : `row ${row} does not has field ${field.name}`;
  return new BadInsertDataError(
    `${PREFIX}${what}; send a value, or declare the field nullable or with a defaultValue: invalid parameter[expected=${expected}][actual=${showValue(v)}]`,
    row,
    field.name,
  );
}
