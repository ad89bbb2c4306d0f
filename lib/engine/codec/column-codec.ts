/**
 * Columnar encoding of one field's values: the body of a segment chunk and of a WAL insert column.
 *
 * Layout (all integers little-endian; every section starts at an offset that is a multiple of 8,
 * so numeric and vector payloads decode as typed-array views over the input, without copying):
 *
 * ```
 *  0  magic 'MGCH'
 *  4  format version   u16
 *  6  DataType code    u8   (Milvus's DataType numbers: Bool 1 … JSON 23, FloatVector 101)
 *  7  flags            u8   (bit 0: a validity bitmap follows)
 *  8  row count        u32
 * 12  aux              u32  (FloatVector: dim; Array: element DataType code; else 0)
 * 16  [validity bitmap: ceil(rows/8) bytes, bit i set = row i is not null]
 *     payload:
 *       Bool                      u8[rows]
 *       Int8/16/32, Int64         i8/i16/i32/i64[rows]
 *       Float, Double             f32/f64[rows]
 *       FloatVector               f32[rows*dim]
 *       VarChar, JSON             u32 offsets[rows+1], UTF-8 bytes (JSON as JSON text)
 *       Array                     u32 element offsets[rows+1], then the elements' payload as above
 * ```
 * Null rows hold a zero / empty placeholder in the payload. The chunk ends exactly where its last
 * section ends; trailing bytes count as corruption. There is no checksum here: the WAL framing and
 * the object store carry their own.
 */
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { CorruptDataError } from '../errors.ts';
import type { DataType, ElementType, Value } from '../schema/types.ts';

/** The 4-byte magic at the start of every column chunk. */
export const COLUMN_MAGIC = 'MGCH';
/** The format version this build writes and reads. */
export const COLUMN_FORMAT_VERSION = 1;
/** Bytes of the fixed header. */
export const COLUMN_HEADER_BYTES = 16;

const MAGIC = [0x4d, 0x47, 0x43, 0x48]; // 'MGCH'
const FLAG_VALIDITY = 1;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Payloads are typed-array views, which use the platform byte order.
  throw new Error('column-codec requires a little-endian platform');
}

/** Milvus DataType numbers (schemapb.DataType), used as the on-disk type code. */
export const DATA_TYPE_CODE: Readonly<Record<DataType, number>> = {
  Bool: 1, Int8: 2, Int16: 3, Int32: 4, Int64: 5, Float: 10, Double: 11,
  VarChar: 21, Array: 22, JSON: 23, FloatVector: 101,
};
const CODE_TO_TYPE = new Map<number, DataType>(
  Object.entries(DATA_TYPE_CODE).map(([t, c]) => [c, t as DataType]),
);
const ELEMENT_TYPES: ReadonlySet<string> = new Set<ElementType>(
  ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar'],
);

type NumericArray = Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
type NumericCtor =
  | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor;

/** Fixed-width numeric types: typed array constructor and the integer range they accept. */
const NUMERIC: Partial<Record<DataType, { ctor: NumericCtor; min?: number; max?: number }>> = {
  Int8: { ctor: Int8Array, min: -128, max: 127 },
  Int16: { ctor: Int16Array, min: -32768, max: 32767 },
  Int32: { ctor: Int32Array, min: -2147483648, max: 2147483647 },
  Int64: { ctor: BigInt64Array },
  Float: { ctor: Float32Array },
  Double: { ctor: Float64Array },
};
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Options of `encodeColumn`. */
export interface ColumnOptions {
  /** FloatVector: the dimension (required). */
  dim?: number;
  /** Array: the element type (required). */
  elementType?: ElementType;
}

/**
 * One decoded column. Typed payloads are views over the bytes given to `decodeColumn` (copied only
 * when those bytes were not 8-byte aligned): do not mutate either. Which payload field is set
 * depends on `type`; `get(i)` works for every type.
 */
export interface DecodedColumn {
  readonly type: DataType;
  readonly rowCount: number;
  /** FloatVector only. */
  readonly dim: number | undefined;
  /** Array only. */
  readonly elementType: ElementType | undefined;
  /** Validity bitmap (bit i of byte i>>3 set = row i not null), or null when no row is null. */
  readonly validity: Uint8Array | null;
  /** Bool: one byte per row, 0 or 1. */
  readonly bools: Uint8Array | undefined;
  /** Int8/16/32 (Int8Array…Int32Array), Int64 (BigInt64Array), Float (Float32Array), Double (Float64Array). */
  readonly numeric: NumericArray | undefined;
  /** FloatVector: all rows' vectors, flat (`rowCount * dim` floats). */
  readonly vectors: Float32Array | undefined;
  /** VarChar/JSON: row i's UTF-8 bytes are `bytes[offsets[i], offsets[i+1])`; Array: row i's element range in `elements`. */
  readonly offsets: Uint32Array | undefined;
  /** VarChar/JSON: the UTF-8 payload. */
  readonly bytes: Uint8Array | undefined;
  /** Array: all rows' elements as one column of the element type. */
  readonly elements: DecodedColumn | undefined;
  /** True when row i is null. */
  isNull(i: number): boolean;
  /** Row i as a `Value` (null for null rows; FloatVector rows are views into `vectors`). */
  get(i: number): Value;
  /** All rows as `Value`s. */
  toArray(): Value[];
}

/** Rounds up to the next multiple of 8. */
function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Writes the 16-byte header. */
function writeHeader(out: Uint8Array, type: DataType, flags: number, rowCount: number, aux: number): void {
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer, out.byteOffset, COLUMN_HEADER_BYTES);
  dv.setUint16(4, COLUMN_FORMAT_VERSION, true);
  dv.setUint8(6, DATA_TYPE_CODE[type]);
  dv.setUint8(7, flags);
  dv.setUint32(8, rowCount, true);
  dv.setUint32(12, aux, true);
}

/** A Buffer over `out` for fast UTF-8 writes (no copy). */
function bufferOver(out: Uint8Array): Buffer {
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * A payload planned before allocation: `bytes` is its size (from an 8-aligned start), `fill`
 * writes it at `pos` of the output.
 */
interface Payload {
  bytes: number;
  fill(out: Uint8Array, pos: number): void;
}

/** Describes a value for error messages without dumping huge arrays. */
function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v instanceof Float32Array) return `Float32Array(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v === null) return 'null';
  return `${typeof v} ${String(v).slice(0, 40)}`;
}

/** A TypeError naming the row, the expected type and the value received. */
function badValue(type: string, row: number, v: unknown, expected: string): TypeError {
  return new TypeError(`cannot encode ${type} column: row ${row} is ${show(v)}, expected ${expected}; validate rows before encoding`);
}

/** Plans a fixed-width numeric or Bool payload from `get(i)` values (null → 0). */
function fixedPayload(type: DataType, n: number, get: (i: number) => unknown, label: string): Payload {
  if (type === 'Bool') {
    return {
      bytes: n,
      fill(out, pos) {
        for (let i = 0; i < n; i++) {
          const v = get(i);
          if (v === null || v === undefined) continue;
          if (typeof v !== 'boolean') throw badValue(label, i, v, 'a boolean');
          if (v) out[pos + i] = 1;
        }
      },
    };
  }
  const spec = NUMERIC[type]!;
  const width = spec.ctor.BYTES_PER_ELEMENT;
  return {
    bytes: n * width,
    fill(out, pos) {
      if (type === 'Int64') {
        const arr = new BigInt64Array(out.buffer, out.byteOffset + pos, n);
        for (let i = 0; i < n; i++) {
          const v = get(i);
          if (v === null || v === undefined) continue;
          if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) throw badValue(label, i, v, 'a bigint in int64 range');
          arr[i] = v;
        }
        return;
      }
      const arr = new (spec.ctor as Float64ArrayConstructor)(out.buffer, out.byteOffset + pos, n);
      const { min, max } = spec;
      for (let i = 0; i < n; i++) {
        const v = get(i);
        if (v === null || v === undefined) continue;
        if (typeof v !== 'number') throw badValue(label, i, v, 'a number');
        if (min !== undefined && !(Number.isInteger(v) && v >= min && v <= max!)) {
          throw badValue(label, i, v, `an integer in [${min}, ${max}]`);
        }
        arr[i] = v;
      }
    },
  };
}

/** Plans u32 offsets[n+1] followed by UTF-8 bytes of `strs` (null entries are empty). */
function stringsPayload(strs: (string | null)[]): Payload {
  const n = strs.length;
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = strs[i];
    if (s !== null && s.length > 0) total += Buffer.byteLength(s, 'utf8');
    if (total > 0xffffffff) throw new RangeError(`column text exceeds 4 GiB at row ${i}; split the chunk`);
    offsets[i + 1] = total;
  }
  const dataPos = align8(4 * (n + 1));
  return {
    bytes: dataPos + total,
    fill(out, pos) {
      out.set(new Uint8Array(offsets.buffer), pos);
      const buf = bufferOver(out);
      const base = pos + dataPos;
      for (let i = 0; i < n; i++) {
        const s = strs[i];
        if (s !== null && s.length > 0) buf.write(s, base + offsets[i], 'utf8');
      }
    },
  };
}

/** Serializes one JSON value; bigints inside (from a lossless parse) are written as exact integers. */
function jsonText(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? 'null' : s;
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return losslessStringify(v) ?? 'null';
    throw err;
  }
}

/** Plans an Array column: u32 element offsets[n+1], then the flattened elements' payload. */
function arrayPayload(values: readonly Value[], elementType: ElementType): Payload {
  const n = values.length;
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      if (!Array.isArray(v)) throw badValue(`Array<${elementType}>`, i, v, 'an array');
      total += v.length;
    }
    offsets[i + 1] = total;
  }
  // Flatten once; the element payload then encodes like a plain column of the element type.
  const flat: unknown[] = new Array(total);
  for (let i = 0, k = 0; i < n; i++) {
    const v = values[i] as unknown[] | null;
    if (!v) continue;
    for (let j = 0; j < v.length; j++) {
      const e = v[j];
      if (e === null || e === undefined) throw badValue(`Array<${elementType}>`, i, v, 'no null elements');
      flat[k++] = e;
    }
  }
  const label = `Array<${elementType}>`;
  let elems: Payload;
  if (elementType === 'VarChar') {
    for (let k = 0; k < total; k++) if (typeof flat[k] !== 'string') throw badValue(label, k, flat[k], 'string elements');
    elems = stringsPayload(flat as string[]);
  } else {
    elems = fixedPayload(elementType, total, (k) => flat[k], label);
  }
  const elemPos = align8(4 * (n + 1));
  return {
    bytes: elemPos + elems.bytes,
    fill(out, pos) {
      out.set(new Uint8Array(offsets.buffer), pos);
      elems.fill(out, pos + elemPos);
    },
  };
}

/** Assembles header, validity bitmap and payload into one buffer. */
function assemble(type: DataType, rowCount: number, aux: number, values: readonly Value[] | null, payload: Payload): Uint8Array {
  let nulls = 0;
  if (values) for (let i = 0; i < rowCount; i++) if (values[i] === null || values[i] === undefined) nulls++;
  const validityBytes = nulls > 0 ? (rowCount + 7) >>> 3 : 0;
  const payloadPos = align8(COLUMN_HEADER_BYTES + validityBytes);
  const out = new Uint8Array(payloadPos + payload.bytes);
  writeHeader(out, type, nulls > 0 ? FLAG_VALIDITY : 0, rowCount, aux);
  if (nulls > 0) {
    for (let i = 0; i < rowCount; i++) {
      const v = values![i];
      if (v !== null && v !== undefined) out[COLUMN_HEADER_BYTES + (i >>> 3)] |= 1 << (i & 7);
    }
  }
  payload.fill(out, payloadPos);
  return out;
}

/**
 * Encodes one field's values (`null` marks a null row). FloatVector needs `opts.dim`, Array needs
 * `opts.elementType`. Throws a TypeError when a value does not have the field's type.
 */
export function encodeColumn(type: DataType, values: readonly Value[], opts: ColumnOptions = {}): Uint8Array {
  const n = values.length;
  if (n > 0xffffffff) throw new RangeError(`too many rows for one column chunk: ${n}`);
  switch (type) {
    case 'Bool': case 'Int8': case 'Int16': case 'Int32': case 'Int64': case 'Float': case 'Double':
      return assemble(type, n, 0, values, fixedPayload(type, n, (i) => values[i], type));
    case 'VarChar': {
      const strs: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) strs[i] = null;
        else if (typeof v === 'string') strs[i] = v;
        else throw badValue(type, i, v, 'a string');
      }
      return assemble(type, n, 0, values, stringsPayload(strs));
    }
    case 'JSON': {
      const strs: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        strs[i] = v === null || v === undefined ? null : jsonText(v);
      }
      return assemble(type, n, 0, values, stringsPayload(strs));
    }
    case 'Array': {
      const et = opts.elementType;
      if (!et || !ELEMENT_TYPES.has(et)) {
        throw new TypeError(`cannot encode Array column: elementType ${String(et)} is not one of ${[...ELEMENT_TYPES].join(', ')}; pass the field's elementType`);
      }
      return assemble(type, n, DATA_TYPE_CODE[et], values, arrayPayload(values, et));
    }
    case 'FloatVector': {
      const dim = checkDim(opts.dim);
      const payload: Payload = {
        bytes: n * dim * 4,
        fill(out, pos) {
          const flat = new Float32Array(out.buffer, out.byteOffset + pos, n * dim);
          for (let i = 0; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            if (!(v instanceof Float32Array || Array.isArray(v)) || v.length !== dim) {
              throw badValue(type, i, v, `a Float32Array of length ${dim}`);
            }
            flat.set(v as ArrayLike<number>, i * dim);
          }
        },
      };
      return assemble(type, n, dim, values, payload);
    }
    default:
      throw new TypeError(`cannot encode column of unknown DataType ${String(type)}`);
  }
}

/** Validates a vector dimension. */
function checkDim(dim: number | undefined): number {
  if (!Number.isInteger(dim) || dim! < 1) {
    throw new TypeError(`cannot encode FloatVector column: dim must be a positive integer, got ${String(dim)}; pass the field's dim`);
  }
  return dim!;
}

/** Encodes a FloatVector column straight from flat vectors (`rows * dim` floats), with no per-row arrays. */
export function encodeVectors(flat: Float32Array, dim: number): Uint8Array {
  checkDim(dim);
  if (flat.length % dim !== 0) {
    throw new TypeError(`cannot encode FloatVector column: ${flat.length} floats is not a multiple of dim ${dim}`);
  }
  const n = flat.length / dim;
  return assemble('FloatVector', n, dim, null, {
    bytes: flat.length * 4,
    fill(out, pos) {
      new Float32Array(out.buffer, out.byteOffset + pos, flat.length).set(flat);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

type Utf8Slicer = (buf: Buffer, start: number, end: number) => string;
// Buffer#utf8Slice is ~30% faster than toString('utf8', …) (no argument normalization).
const utf8Slice: Utf8Slicer =
  typeof (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (buf, s, e) => (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(s, e)
    : (buf, s, e) => buf.toString('utf8', s, e);

/** Integers beyond 2^53 become bigint so JSON documents keep exact ids. */
function parseJsonNumber(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !/^-?\d+$/.test(text)) return n;
  return BigInt(text);
}
const LONG_DIGITS = /\d{16,}/;

/** Parses JSON text, switching to an exact parser only when a long digit run could lose precision. */
function parseJsonText(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return losslessParse(text, null, parseJsonNumber);
}

/** Throws a CorruptDataError with the common advice. */
function corrupt(what: string): never {
  throw new CorruptDataError(`corrupt column chunk: ${what}; the file is damaged, truncated or not a column chunk — restore it from its source (WAL replay or re-flush)`);
}

/** Implementation of DecodedColumn; one hidden class for all types, `get` specialized per type. */
class Column implements DecodedColumn {
  type: DataType;
  rowCount: number;
  dim: number | undefined = undefined;
  elementType: ElementType | undefined = undefined;
  validity: Uint8Array | null;
  bools: Uint8Array | undefined = undefined;
  numeric: NumericArray | undefined = undefined;
  vectors: Float32Array | undefined = undefined;
  offsets: Uint32Array | undefined = undefined;
  bytes: Uint8Array | undefined = undefined;
  elements: DecodedColumn | undefined = undefined;
  /** Row getter ignoring validity. */
  raw: (i: number) => Value = () => null;

  constructor(type: DataType, rowCount: number, validity: Uint8Array | null) {
    this.type = type;
    this.rowCount = rowCount;
    this.validity = validity;
  }

  isNull(i: number): boolean {
    const v = this.validity;
    return v !== null && (v[i >>> 3] & (1 << (i & 7))) === 0;
  }

  get(i: number): Value {
    const v = this.validity;
    if (v !== null && (v[i >>> 3] & (1 << (i & 7))) === 0) return null;
    return this.raw(i);
  }

  toArray(): Value[] {
    const out: Value[] = new Array(this.rowCount);
    for (let i = 0; i < this.rowCount; i++) out[i] = this.get(i);
    return out;
  }
}

/** Reads a payload of `type` with `n` rows at `pos` into `col`; returns the end offset. */
function readPayload(col: Column, bytes: Uint8Array, pos: number, type: DataType, n: number, dim: number): number {
  const ab = bytes.buffer;
  const base = bytes.byteOffset;
  const need = (len: number, what: string) => {
    if (pos + len > bytes.length) corrupt(`${what} needs ${len} bytes at offset ${pos} but the chunk has ${bytes.length} bytes`);
  };
  switch (type) {
    case 'Bool': {
      need(n, `${n} Bool rows`);
      const b = new Uint8Array(ab, base + pos, n);
      col.bools = b;
      col.raw = (i) => b[i] !== 0;
      return pos + n;
    }
    case 'Int8': case 'Int16': case 'Int32': case 'Int64': case 'Float': case 'Double': {
      const ctor = NUMERIC[type]!.ctor;
      const len = n * ctor.BYTES_PER_ELEMENT;
      need(len, `${n} ${type} rows`);
      const arr = new (ctor as Float64ArrayConstructor)(ab, base + pos, n) as unknown as NumericArray;
      col.numeric = arr;
      col.raw = (i) => arr[i];
      return pos + len;
    }
    case 'FloatVector': {
      const len = n * dim * 4;
      need(len, `${n} FloatVector rows of dim ${dim}`);
      const flat = new Float32Array(ab, base + pos, n * dim);
      col.vectors = flat;
      col.raw = (i) => flat.subarray(i * dim, i * dim + dim);
      return pos + len;
    }
    case 'VarChar': case 'JSON': {
      const offsets = readOffsets(bytes, pos, n, `${type} offsets`);
      const dataPos = pos + align8(4 * (n + 1));
      const total = offsets[n];
      need(dataPos - pos + total, `${type} text of ${total} bytes`);
      const buf = Buffer.from(ab, base + dataPos, total);
      col.offsets = offsets;
      col.bytes = buf;
      col.raw = type === 'VarChar'
        ? (i) => utf8Slice(buf, offsets[i], offsets[i + 1])
        : (i) => parseJsonText(utf8Slice(buf, offsets[i], offsets[i + 1])) as Value;
      return dataPos + total;
    }
    default:
      return corrupt(`payload type ${type} cannot nest here`);
  }
}

/** Reads and checks u32 offsets[n+1] at `pos`: starting at 0, never decreasing. */
function readOffsets(bytes: Uint8Array, pos: number, n: number, what: string): Uint32Array {
  const len = 4 * (n + 1);
  if (pos + len > bytes.length) corrupt(`${what} need ${len} bytes at offset ${pos} but the chunk has ${bytes.length} bytes`);
  const offsets = new Uint32Array(bytes.buffer, bytes.byteOffset + pos, n + 1);
  if (offsets[0] !== 0) corrupt(`${what} start at ${offsets[0]} instead of 0`);
  for (let i = 0; i < n; i++) {
    if (offsets[i + 1] < offsets[i]) corrupt(`${what} decrease at row ${i} (${offsets[i]} → ${offsets[i + 1]})`);
  }
  return offsets;
}

/**
 * Where the vectors of a FloatVector chunk lie, from its first COLUMN_HEADER_BYTES bytes and its total
 * size, so they can be read straight from the file into place without decoding the chunk. Returns
 * undefined for chunks it cannot place that way (a validity bitmap); throws CorruptDataError like
 * decodeColumn on a bad header or a size that does not match.
 */
export function vectorChunkLayout(head: Uint8Array, totalBytes: number): { rowCount: number; dim: number; payloadOffset: number } | undefined {
  if (head.length < COLUMN_HEADER_BYTES) corrupt(`${head.length} bytes is shorter than the ${COLUMN_HEADER_BYTES}-byte header`);
  if (head[0] !== MAGIC[0] || head[1] !== MAGIC[1] || head[2] !== MAGIC[2] || head[3] !== MAGIC[3]) {
    corrupt(`magic is ${JSON.stringify(String.fromCharCode(head[0], head[1], head[2], head[3]))}, expected "${COLUMN_MAGIC}"`);
  }
  const dv = new DataView(head.buffer, head.byteOffset, COLUMN_HEADER_BYTES);
  const version = dv.getUint16(4, true);
  if (version !== COLUMN_FORMAT_VERSION) {
    throw new CorruptDataError(`column chunk format version ${version} is not readable by this build (reads version ${COLUMN_FORMAT_VERSION}); upgrade Migrans or rewrite the segment`);
  }
  if (CODE_TO_TYPE.get(dv.getUint8(6)) !== 'FloatVector') corrupt(`type code ${dv.getUint8(6)} is not FloatVector`);
  const flags = dv.getUint8(7);
  if (flags & ~FLAG_VALIDITY) corrupt(`unknown flags 0x${flags.toString(16)}`);
  if (flags & FLAG_VALIDITY) return undefined;
  const rowCount = dv.getUint32(8, true);
  const dim = dv.getUint32(12, true);
  if (dim < 1) corrupt(`FloatVector dim is ${dim}`);
  const payloadOffset = align8(COLUMN_HEADER_BYTES);
  const end = payloadOffset + rowCount * dim * 4;
  if (end !== totalBytes) corrupt(`chunk is ${totalBytes} bytes but its ${rowCount} FloatVector rows end at ${end}`);
  return { rowCount, dim, payloadOffset };
}

/**
 * Decodes a chunk written by `encodeColumn` / `encodeVectors`. Numeric, Bool and vector payloads are
 * zero-copy views when `bytes` is 8-byte aligned (otherwise the chunk is copied once). Throws
 * CorruptDataError on a bad magic, an unknown version or type, or a truncated / oversized chunk.
 */
export function decodeColumn(bytes: Uint8Array): DecodedColumn {
  if (bytes.length < COLUMN_HEADER_BYTES) corrupt(`${bytes.length} bytes is shorter than the ${COLUMN_HEADER_BYTES}-byte header`);
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2] || bytes[3] !== MAGIC[3]) {
    corrupt(`magic is ${JSON.stringify(String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]))}, expected "${COLUMN_MAGIC}"`);
  }
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice(); // typed views need aligned offsets
  const dv = new DataView(bytes.buffer, bytes.byteOffset, COLUMN_HEADER_BYTES);
  const version = dv.getUint16(4, true);
  if (version !== COLUMN_FORMAT_VERSION) {
    throw new CorruptDataError(`column chunk format version ${version} is not readable by this build (reads version ${COLUMN_FORMAT_VERSION}); upgrade Migrans or rewrite the segment`);
  }
  const code = dv.getUint8(6);
  const type = CODE_TO_TYPE.get(code);
  if (!type) corrupt(`unknown DataType code ${code}`);
  const flags = dv.getUint8(7);
  if (flags & ~FLAG_VALIDITY) corrupt(`unknown flags 0x${flags.toString(16)}`);
  const n = dv.getUint32(8, true);
  const aux = dv.getUint32(12, true);

  let pos = COLUMN_HEADER_BYTES;
  let validity: Uint8Array | null = null;
  if (flags & FLAG_VALIDITY) {
    const vb = (n + 7) >>> 3;
    if (pos + vb > bytes.length) corrupt(`validity bitmap of ${vb} bytes runs past the end (${bytes.length} bytes)`);
    validity = new Uint8Array(bytes.buffer, bytes.byteOffset + pos, vb);
    pos += vb;
  }
  pos = align8(pos);

  const col = new Column(type, n, validity);
  let end: number;
  if (type === 'FloatVector') {
    if (aux < 1) corrupt(`FloatVector dim is ${aux}`);
    col.dim = aux;
    end = readPayload(col, bytes, pos, type, n, aux);
  } else if (type === 'Array') {
    const et = CODE_TO_TYPE.get(aux);
    if (!et || !ELEMENT_TYPES.has(et)) corrupt(`unknown Array element type code ${aux}`);
    const elementType = et as ElementType;
    col.elementType = elementType;
    const offsets = readOffsets(bytes, pos, n, 'Array element offsets');
    const total = offsets[n];
    const elems = new Column(elementType, total, null);
    end = readPayload(elems, bytes, pos + align8(4 * (n + 1)), elementType, total, 0);
    col.offsets = offsets;
    col.elements = elems;
    const rawElem = elems.raw;
    col.raw = (i) => {
      const a = offsets[i];
      const b = offsets[i + 1];
      const out: unknown[] = new Array(b - a);
      for (let k = a; k < b; k++) out[k - a] = rawElem(k);
      return out;
    };
  } else {
    if (aux !== 0) corrupt(`aux field is ${aux} for a ${type} column (expected 0)`);
    end = readPayload(col, bytes, pos, type, n, 0);
  }
  if (end !== bytes.length) corrupt(`chunk is ${bytes.length} bytes but its ${n} ${type} rows end at ${end}`);
  return col;
}
