/**
 * Reads request JSON the way Milvus's gin handlers bind it into Go structs, so clients see the same
 * leniency and the same errors: struct keys match case-insensitively (`autoId` binds `autoID`),
 * unknown keys are ignored, `null` leaves the default, a value of the wrong JSON type is a 1801
 * ("cannot unmarshal …"), and a `binding:"required"` field that is missing, null or zero is a 1802.
 * Map-typed members (`params`, `elementTypeParams`, `searchParams`, …) keep their keys verbatim.
 */
import { ErrorCode, MilvusError } from './error-codes.ts';

/** A plain JSON object as parsed from a request. */
export type JsonObject = Record<string, unknown>;

/** Milvus's prefix for body decoding errors (code 1801). */
export const BAD_JSON_PREFIX = 'can only accept json format request';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** True for a non-null, non-array object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** The JSON type name Go's decoder reports for a value (`string`, `number`, `bool`, `array`, `object`). */
export function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return `number ${String(value)}`;
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

/** A 1801 error shaped like Go's `json: cannot unmarshal X into Go struct field S.k of type T`. */
export function unmarshalError(structName: string, key: string, value: unknown, goType: string): MilvusError {
  return new MilvusError(ErrorCode.BadJson, `${BAD_JSON_PREFIX}, error: json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ${structName}.${key} of type ${goType}`);
}

/** A 1802 error shaped like go-playground/validator's message for a `required` tag. */
export function missingRequired(structName: string, key: string): MilvusError {
  const goField = key.charAt(0).toUpperCase() + key.slice(1);
  return new MilvusError(
    ErrorCode.MissingParameter,
    `missing required parameters, error: Key: '${structName}.${goField}' Error:Field validation for '${goField}' failed on the 'required' tag`,
  );
}

/** Case-insensitive (ASCII) key lookup with Go's preference for an exact match. */
export function getKeyInsensitive(obj: JsonObject, key: string): unknown {
  if (Object.hasOwn(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  let found: unknown;
  for (const k in obj) {
    if (k.length === key.length && k.toLowerCase() === lower) found = obj[k];
  }
  return found;
}

/** A JSON object bound as the Go struct `structName`: typed, case-insensitive accessors. */
export class StructReader {
  private constructor(
    readonly obj: JsonObject,
    readonly structName: string,
  ) {}

  /** Wraps a value that must be a JSON object (null/undefined bind as `{}`), else a 1801. */
  static of(value: unknown, structName: string): StructReader {
    if (value === null || value === undefined) return new StructReader({}, structName);
    if (!isJsonObject(value)) {
      throw new MilvusError(ErrorCode.BadJson, `${BAD_JSON_PREFIX}, error: json: cannot unmarshal ${jsonTypeName(value)} into Go value of type ${structName}`);
    }
    return new StructReader(value, structName);
  }

  /** The raw value of a struct key (case-insensitive); undefined when absent or null. */
  raw(key: string): unknown {
    const v = getKeyInsensitive(this.obj, key);
    return v === null ? undefined : v;
  }

  /** True when the key is present with a non-null value. */
  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  /** A string member; `required` rejects a missing or empty value with 1802. */
  string(key: string, required: true): string;
  string(key: string, required?: boolean): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.raw(key);
    if (v !== undefined && typeof v !== 'string') throw unmarshalError(this.structName, key, v, 'string');
    if (required && (v === undefined || v === '')) throw missingRequired(this.structName, key);
    return v;
  }

  /** A bool member. */
  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v !== undefined && typeof v !== 'boolean') throw unmarshalError(this.structName, key, v, 'bool');
    return v;
  }

  /** An int32 member: a JSON integer in range (Go rejects `10.5` and `"10"`). */
  int32(key: string, required = false): number | undefined {
    const v = this.raw(key);
    if (v === undefined) {
      if (required) throw missingRequired(this.structName, key);
      return undefined;
    }
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) {
      throw unmarshalError(this.structName, key, v, 'int32');
    }
    if (required && n === 0) throw missingRequired(this.structName, key);
    return n;
  }

  /** An int64 member as bigint: a JSON integer in the int64 range. */
  int64(key: string, required = false): bigint | undefined {
    const v = this.raw(key);
    if (v === undefined) {
      if (required) throw missingRequired(this.structName, key);
      return undefined;
    }
    let b: bigint | undefined;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
    if (b === undefined || b < INT64_MIN || b > INT64_MAX) throw unmarshalError(this.structName, key, v, 'int64');
    if (required && b === 0n) throw missingRequired(this.structName, key);
    return b;
  }

  /** A `[]string` member; `required` rejects missing/null (an empty array passes, as in Go). */
  stringArray(key: string, required = false): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) {
      if (required) throw missingRequired(this.structName, key);
      return undefined;
    }
    if (!Array.isArray(v)) throw unmarshalError(this.structName, key, v, '[]string');
    for (const item of v) {
      if (typeof item !== 'string') throw unmarshalError(this.structName, key, item, 'string');
    }
    return v as string[];
  }

  /** A `[]interface{}` member (elements unchecked). */
  array(key: string, required = false): unknown[] | undefined {
    const v = this.raw(key);
    if (v === undefined) {
      if (required) throw missingRequired(this.structName, key);
      return undefined;
    }
    if (!Array.isArray(v)) throw unmarshalError(this.structName, key, v, '[]interface {}');
    return v;
  }

  /** A `map[string]interface{}` member: keys stay case-sensitive. */
  map(key: string): JsonObject | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) throw unmarshalError(this.structName, key, v, 'map[string]interface {}');
    return v;
  }

  /** A nested struct member. */
  struct(key: string, structName: string): StructReader | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) throw unmarshalError(this.structName, key, v, structName);
    return new StructReader(v, structName);
  }

  /** A `[]Struct` member; `required` rejects missing/null. */
  structArray(key: string, structName: string, required = false): StructReader[] | undefined {
    const v = this.raw(key);
    if (v === undefined) {
      if (required) throw missingRequired(this.structName, key);
      return undefined;
    }
    if (!Array.isArray(v)) throw unmarshalError(this.structName, key, v, `[]${structName}`);
    return v.map((item) => {
      if (!isJsonObject(item)) throw unmarshalError(this.structName, key, item, structName);
      return new StructReader(item, structName);
    });
  }
}
