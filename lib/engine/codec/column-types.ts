/**
 * What the column codec knows about each DataType: its on-disk type code (Milvus's DataType numbers),
 * which types an Array may hold, and the typed array and integer range of each fixed-width type.
 * Shared by the framing, the encoders and the decoder.
 */
import type { DataType, ElementType } from '../schema/types.ts';

/** Milvus DataType numbers (schemapb.DataType), used as the on-disk type code. */
export const DATA_TYPE_CODE: Readonly<Record<DataType, number>> = {
  Bool: 1,
  Int8: 2,
  Int16: 3,
  Int32: 4,
  Int64: 5,
  Float: 10,
  Double: 11,
  VarChar: 21,
  Array: 22,
  JSON: 23,
  FloatVector: 101,
};
/** DataType by on-disk type code. */
export const CODE_TO_TYPE = new Map<number, DataType>(Object.entries(DATA_TYPE_CODE).map(([t, c]) => [c, t as DataType]));
/** The element types an Array column may have. */
export const ELEMENT_TYPES: ReadonlySet<string> = new Set<ElementType>(['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar']);

/** The typed arrays fixed-width payloads decode to. */
export type NumericArray = Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
type NumericCtor = Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;

/** Fixed-width numeric types: typed array constructor and the integer range they accept. */
export const NUMERIC: Partial<Record<DataType, { ctor: NumericCtor; min?: number; max?: number }>> = {
  Int8: { ctor: Int8Array, min: -128, max: 127 },
  Int16: { ctor: Int16Array, min: -32768, max: 32767 },
  Int32: { ctor: Int32Array, min: -2147483648, max: 2147483647 },
  Int64: { ctor: BigInt64Array },
  Float: { ctor: Float32Array },
  Double: { ctor: Float64Array },
};
/** Smallest Int64 value. */
export const INT64_MIN = -(1n << 63n);
/** Largest Int64 value. */
export const INT64_MAX = (1n << 63n) - 1n;
