/**
 * Columnar encoding of one field's values: the body of a segment chunk (insert_log) and of a WAL
 * insert column.
 *
 * Layout of format version 2 (all integers little-endian; every section starts at an offset that is
 * a multiple of 8, so numeric and vector payloads decode as typed-array views over the input,
 * without copying):
 *
 * ```
 *  0  magic 'MGCH'
 *  4  format version   u16  (2)
 *  6  DataType code    u8   (Milvus's DataType numbers: Bool 1 … JSON 23, FloatVector 101)
 *  7  flags            u8   (bit 0: a validity bitmap follows)
 *  8  row count        u32
 * 12  aux              u32  (FloatVector: dim; Array: element DataType code; else 0)
 * 16  block bytes      u32  (CHUNK_BLOCK_BYTES when written by this build)
 * 20  block count      u32
 * 24  reserved         u32  (0)
 * 28  head CRC-32      u32  of bytes [0, 28) followed by the block table and its padding
 * 32  block table      u32[block count]: CRC-32 of each block of the body, pad to 8
 *     body (split into blocks of `block bytes`, the last one shorter):
 *       [validity bitmap: ceil(rows/8) bytes, bit i set = row i is not null], pad to 8
 *       payload:
 *         Bool                      u8[rows]
 *         Int8/16/32, Int64         i8/i16/i32/i64[rows]
 *         Float, Double             f32/f64[rows]
 *         FloatVector               f32[rows*dim]
 *         VarChar, JSON             u32 offsets[rows+1], UTF-8 bytes (JSON as JSON text)
 *         Array                     u32 element offsets[rows+1], then the elements' payload as above
 * ```
 * Null rows hold a zero / empty placeholder in the payload. The chunk ends exactly where its last
 * section ends; trailing bytes count as corruption.
 *
 * Checksums: the head CRC covers the header and the block table, and each block CRC covers its
 * slice of the body, so every byte is covered. Blocks let a reader that reads a range of a chunk
 * (lazy and cold vector columns, vector-column.ts) verify just the blocks it touches;
 * `decodeColumn` verifies all of them. Version 1 (a 16-byte header, then the body, no checksum) is
 * still read, so data written before checksums opens; it is never written.
 */
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { checksumMismatch, CorruptDataError } from '../errors.ts';
import type { DataType, ElementType, Value } from '../schema/types.ts';
import { crc32 } from './crc32.ts';

/** The 4-byte magic at the start of every column chunk. */
export const COLUMN_MAGIC = 'MGCH';
/** The format version this build writes (it also reads COLUMN_FORMAT_VERSION_V1). */
export const COLUMN_FORMAT_VERSION = 2;
/** The first format, without checksums: still read, never written. */
export const COLUMN_FORMAT_VERSION_V1 = 1;
/** Bytes of the fixed header (before the block table). */
export const COLUMN_HEADER_BYTES = 32;
/** Bytes of the version-1 header. */
const V1_HEADER_BYTES = 16;
/**
 * Body bytes per checksummed block. A range read of a chunk reads and verifies whole blocks: 16 KiB
 * keeps a single-row read cheap (32 rows of 128 floats; a few µs of read and CRC) while the table
 * stays small (4 bytes per block: 150 KB for 600 MB, read once per open).
 */
export const CHUNK_BLOCK_BYTES = 16 * 1024;

const MAGIC = [0x4d, 0x47, 0x43, 0x48]; // 'MGCH'
const FLAG_VALIDITY = 1;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Payloads are typed-array views, which use the platform byte order.
  throw new Error('column-codec requires a little-endian platform');
}

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
const CODE_TO_TYPE = new Map<number, DataType>(Object.entries(DATA_TYPE_CODE).map(([t, c]) => [c, t as DataType]));
const ELEMENT_TYPES: ReadonlySet<string> = new Set<ElementType>(['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float', 'Double', 'VarChar']);

type NumericArray = Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
type NumericCtor = Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;

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

/**
 * Writes the header of a chunk laid out by `chunkLayout`, then checksums: each block of the body,
 * then the head (header and block table). Called once the body is filled.
 */
function sealChunk(out: Uint8Array, type: DataType, flags: number, rowCount: number, aux: number, blocks: number, bodyStart: number): void {
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer, out.byteOffset, COLUMN_HEADER_BYTES + 4 * blocks);
  dv.setUint16(4, COLUMN_FORMAT_VERSION, true);
  dv.setUint8(6, DATA_TYPE_CODE[type]);
  dv.setUint8(7, flags);
  dv.setUint32(8, rowCount, true);
  dv.setUint32(12, aux, true);
  dv.setUint32(16, CHUNK_BLOCK_BYTES, true);
  dv.setUint32(20, blocks, true);
  for (let b = 0; b < blocks; b++) {
    const start = bodyStart + b * CHUNK_BLOCK_BYTES;
    dv.setUint32(COLUMN_HEADER_BYTES + 4 * b, crc32(out.subarray(start, Math.min(start + CHUNK_BLOCK_BYTES, out.length))), true);
  }
  dv.setUint32(28, headCrc(out, blocks), true);
}

/** CRC of a version-2 head: bytes [0, 28) followed by the block table and its padding. */
function headCrc(bytes: Uint8Array, blocks: number): number {
  const table = bytes.subarray(COLUMN_HEADER_BYTES, align8(COLUMN_HEADER_BYTES + 4 * blocks));
  return crc32(table, crc32(bytes.subarray(0, 28)));
}

/** Where the body of a version-2 chunk starts, and its block count, for a body of `bodyBytes`. */
function chunkLayout(bodyBytes: number): { blocks: number; bodyStart: number } {
  const blocks = Math.ceil(bodyBytes / CHUNK_BLOCK_BYTES);
  return { blocks, bodyStart: align8(COLUMN_HEADER_BYTES + 4 * blocks) };
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
    if (err instanceof TypeError && holdsBigInt(v)) return losslessStringify(v) ?? 'null';
    throw err;
  }
}

/** Whether a JSON value holds a bigint anywhere (JSON.stringify refuses those). */
function holdsBigInt(v: unknown): boolean {
  if (typeof v === 'bigint') return true;
  if (typeof v !== 'object' || v === null) return false;
  return (Array.isArray(v) ? v : Object.values(v)).some(holdsBigInt);
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

/** Assembles header, block table, validity bitmap and payload into one checksummed buffer. */
function assemble(type: DataType, rowCount: number, aux: number, values: readonly Value[] | null, payload: Payload): Uint8Array {
  let nulls = 0;
  if (values) for (let i = 0; i < rowCount; i++) if (values[i] === null || values[i] === undefined) nulls++;
  const validityBytes = nulls > 0 ? (rowCount + 7) >>> 3 : 0;
  const { blocks, bodyStart } = chunkLayout(align8(validityBytes) + payload.bytes);
  const payloadPos = bodyStart + align8(validityBytes);
  const out = new Uint8Array(payloadPos + payload.bytes);
  if (nulls > 0) {
    for (let i = 0; i < rowCount; i++) {
      const v = values![i];
      if (v !== null && v !== undefined) out[bodyStart + (i >>> 3)] |= 1 << (i & 7);
    }
  }
  payload.fill(out, payloadPos);
  sealChunk(out, type, nulls > 0 ? FLAG_VALIDITY : 0, rowCount, aux, blocks, bodyStart);
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
    case 'Bool':
    case 'Int8':
    case 'Int16':
    case 'Int32':
    case 'Int64':
    case 'Float':
    case 'Double':
      return assemble(
        type,
        n,
        0,
        values,
        fixedPayload(type, n, (i) => values[i], type),
      );
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

/** Throws a CorruptDataError with the common advice (decodeColumn adds the chunk's key). */
function corrupt(what: string): never {
  throw new CorruptDataError(`corrupt column chunk: ${what}; the file is damaged, truncated or not a column chunk — restore it from its source (WAL replay or re-flush)`, {
    what: 'column chunk',
  });
}

/** The checksums of a version-2 chunk's body, for readers that verify it block by block. */
export interface ChunkBlocks {
  /** Body bytes per block (the last block may be shorter). */
  readonly blockBytes: number;
  /** Byte offset of the body (block 0) in the chunk. */
  readonly bodyStart: number;
  /** Total bytes of the chunk: the last block ends there. */
  readonly totalBytes: number;
  /** CRC-32 of each block. */
  readonly crcs: Uint32Array;
}

/** A parsed, verified chunk header. */
interface ChunkHead {
  code: number;
  flags: number;
  rowCount: number;
  aux: number;
  bodyStart: number;
  /** Absent for version 1 (no checksums). */
  blocks: ChunkBlocks | undefined;
}

/**
 * How many leading bytes of a chunk its head spans (header, block table and padding: where the
 * body starts), from at least its first COLUMN_HEADER_BYTES bytes (or all of a shorter chunk):
 * what a range reader reads before `vectorChunkLayout`. Throws CorruptDataError naming `key` on a
 * bad magic or version.
 */
export function chunkHeadBytes(first: Uint8Array, totalBytes: number, key = 'vector chunk'): number {
  return withKey(key, () => headBytes(first, totalBytes));
}

function headBytes(first: Uint8Array, totalBytes: number): number {
  const version = checkMagicAndVersion(first);
  if (version === COLUMN_FORMAT_VERSION_V1) return V1_HEADER_BYTES;
  if (first.length < COLUMN_HEADER_BYTES) corrupt(`${first.length} bytes is shorter than the ${COLUMN_HEADER_BYTES}-byte header`);
  const blocks = new DataView(first.buffer, first.byteOffset, COLUMN_HEADER_BYTES).getUint32(20, true);
  const bytes = align8(COLUMN_HEADER_BYTES + 4 * blocks);
  if (bytes > totalBytes) corrupt(`a block table of ${blocks} blocks runs past the end of the ${totalBytes}-byte chunk`);
  return bytes;
}

/** Checks the magic and the version; returns the version. */
function checkMagicAndVersion(bytes: Uint8Array): number {
  if (bytes.length < 8) corrupt(`${bytes.length} bytes is shorter than the ${COLUMN_HEADER_BYTES}-byte header`);
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2] || bytes[3] !== MAGIC[3]) {
    corrupt(`magic is ${JSON.stringify(String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]))}, expected "${COLUMN_MAGIC}"`);
  }
  const version = bytes[4] | (bytes[5] << 8);
  if (version !== COLUMN_FORMAT_VERSION && version !== COLUMN_FORMAT_VERSION_V1) {
    throw new CorruptDataError(
      `column chunk format version ${version} is not readable by this build (reads versions ${COLUMN_FORMAT_VERSION_V1} and ${COLUMN_FORMAT_VERSION}); upgrade Migrans or rewrite the segment`,
      { what: 'column chunk' },
    );
  }
  return version;
}

/**
 * Parses the head of a chunk of `totalBytes` bytes from its first bytes (`head`, at least
 * `chunkHeadBytes` of them) and verifies the head checksum (version 2).
 */
function readHead(head: Uint8Array, totalBytes: number, key: string): ChunkHead {
  const version = checkMagicAndVersion(head);
  const fixed = version === COLUMN_FORMAT_VERSION_V1 ? V1_HEADER_BYTES : COLUMN_HEADER_BYTES;
  if (head.length < fixed) corrupt(`${head.length} bytes is shorter than the ${fixed}-byte header`);
  const dv = new DataView(head.buffer, head.byteOffset, fixed);
  const out: ChunkHead = {
    code: dv.getUint8(6),
    flags: dv.getUint8(7),
    rowCount: dv.getUint32(8, true),
    aux: dv.getUint32(12, true),
    bodyStart: V1_HEADER_BYTES,
    blocks: undefined,
  };
  if (version === COLUMN_FORMAT_VERSION_V1) return out;
  const tableEnd = headBytes(head, totalBytes);
  if (head.length < tableEnd) corrupt(`the head needs ${tableEnd} bytes, ${head.length} given`);
  const blocks = dv.getUint32(20, true);
  const expected = dv.getUint32(28, true);
  const actual = headCrc(head, blocks);
  if (actual !== expected) throw checksumMismatch('column chunk', key, 'the header', expected, actual);
  const blockBytes = dv.getUint32(16, true);
  if (blockBytes === 0 || blockBytes % 8 !== 0) corrupt(`block size ${blockBytes} is not a positive multiple of 8`);
  out.bodyStart = tableEnd;
  if (out.bodyStart > totalBytes || Math.ceil((totalBytes - out.bodyStart) / blockBytes) !== blocks) {
    corrupt(`a ${totalBytes}-byte chunk does not hold ${blocks} blocks of ${blockBytes} bytes after its ${out.bodyStart}-byte head`);
  }
  const table = new DataView(head.buffer, head.byteOffset + COLUMN_HEADER_BYTES, 4 * blocks);
  const crcs = new Uint32Array(blocks);
  for (let b = 0; b < blocks; b++) crcs[b] = table.getUint32(4 * b, true);
  out.blocks = { blockBytes, bodyStart: out.bodyStart, totalBytes, crcs };
  return out;
}

/**
 * Verifies body blocks `first`, `first + 1`, … of a chunk from their bytes: `data` starts where
 * block `first` starts and holds whole blocks (the chunk's last block ends at its end). Throws a
 * CorruptDataError naming `key` and the block on a mismatch.
 */
export function verifyChunkBlocks(blocks: ChunkBlocks, first: number, data: Uint8Array, key: string): void {
  const { blockBytes, crcs } = blocks;
  for (let b = first, at = 0; at < data.length; b++, at += blockBytes) {
    if (b >= crcs.length) corrupt(`block ${b} is past the last of ${crcs.length} blocks`);
    const actual = crc32(data.subarray(at, Math.min(at + blockBytes, data.length)));
    if (actual !== crcs[b]) {
      const from = blocks.bodyStart + b * blockBytes;
      throw checksumMismatch('column chunk', key, `block ${b} of ${crcs.length} (bytes ${from}–${Math.min(from + blockBytes, blocks.totalBytes)})`, crcs[b], actual);
    }
  }
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
    case 'Int8':
    case 'Int16':
    case 'Int32':
    case 'Int64':
    case 'Float':
    case 'Double': {
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
    case 'VarChar':
    case 'JSON': {
      const offsets = readOffsets(bytes, pos, n, `${type} offsets`);
      const dataPos = pos + align8(4 * (n + 1));
      const total = offsets[n];
      need(dataPos - pos + total, `${type} text of ${total} bytes`);
      const buf = Buffer.from(ab, base + dataPos, total);
      col.offsets = offsets;
      col.bytes = buf;
      col.raw = type === 'VarChar' ? (i) => utf8Slice(buf, offsets[i], offsets[i + 1]) : (i) => parseJsonText(utf8Slice(buf, offsets[i], offsets[i + 1])) as Value;
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

/** Where the vectors of a FloatVector chunk lie in it, and the checksums of its blocks. */
export interface VectorChunkLayout {
  rowCount: number;
  dim: number;
  /** Byte offset of row 0's vector. */
  payloadOffset: number;
  /**
   * Version 2: the block checksums; the payload is the whole body, so byte p of the vectors lies
   * in block floor(p / blockBytes). Absent for version-1 chunks (no checksums).
   */
  blocks: ChunkBlocks | undefined;
}

/**
 * Where the vectors of a FloatVector chunk lie, from its head (its first `chunkHeadBytes` bytes) and
 * its total size, so they can be read straight from the file into place without decoding the chunk
 * (verifying each block read with `verifyChunkBlocks`). Returns undefined for chunks it cannot
 * place that way (a validity bitmap); throws CorruptDataError like decodeColumn on a bad or
 * damaged head or a size that does not match. `key` names the chunk in errors.
 */
export function vectorChunkLayout(head: Uint8Array, totalBytes: number, key = 'vector chunk'): VectorChunkLayout | undefined {
  return withKey(key, () => {
    const h = readHead(head, totalBytes, key);
    if (CODE_TO_TYPE.get(h.code) !== 'FloatVector') corrupt(`type code ${h.code} is not FloatVector`);
    if (h.flags & ~FLAG_VALIDITY) corrupt(`unknown flags 0x${h.flags.toString(16)}`);
    if (h.flags & FLAG_VALIDITY) return undefined;
    if (h.aux < 1) corrupt(`FloatVector dim is ${h.aux}`);
    const payloadOffset = align8(h.bodyStart);
    const end = payloadOffset + h.rowCount * h.aux * 4;
    if (end !== totalBytes) corrupt(`chunk is ${totalBytes} bytes but its ${h.rowCount} FloatVector rows end at ${end}`);
    return { rowCount: h.rowCount, dim: h.aux, payloadOffset, blocks: h.blocks };
  });
}

/** Runs `fn`, giving CorruptDataErrors that name no object the chunk's key. */
function withKey<T>(key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CorruptDataError && err.key === undefined) {
      throw new CorruptDataError(err.message.replace(/^(corrupt )?column chunk/, (m) => `${m} ${key}:`).replace(/: ?:/, ':'), { key, what: 'column chunk' });
    }
    throw err;
  }
}

/**
 * Decodes a chunk written by `encodeColumn` / `encodeVectors` (or a version-1 chunk), verifying its
 * checksums. Numeric, Bool and vector payloads are zero-copy views when `bytes` is 8-byte aligned
 * (otherwise the chunk is copied once). Throws CorruptDataError naming `key` on a checksum
 * mismatch, a bad magic, an unknown version or type, or a truncated / oversized chunk.
 */
export function decodeColumn(bytes: Uint8Array, key = 'column'): DecodedColumn {
  return withKey(key, () => decodeVerified(bytes, key));
}

function decodeVerified(bytes: Uint8Array, key: string): DecodedColumn {
  if (bytes.length < V1_HEADER_BYTES) corrupt(`${bytes.length} bytes is shorter than the ${V1_HEADER_BYTES}-byte header`);
  const h = readHead(bytes, bytes.length, key);
  if (h.blocks) verifyChunkBlocks(h.blocks, 0, bytes.subarray(h.bodyStart), key);
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice(); // typed views need aligned offsets
  const type = CODE_TO_TYPE.get(h.code);
  if (!type) corrupt(`unknown DataType code ${h.code}`);
  const { flags, rowCount: n, aux } = h;
  if (flags & ~FLAG_VALIDITY) corrupt(`unknown flags 0x${flags.toString(16)}`);

  let pos = h.bodyStart;
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
