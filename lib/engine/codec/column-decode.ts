/**
 * Decoding of column chunks: verifies a whole chunk's checksums, then exposes its payload as zero-copy
 * typed-array views behind one DecodedColumn class, with a row getter specialised per type. Also
 * places the vectors of a FloatVector chunk from its head alone, for readers that read vectors
 * straight from the file (vector-column.ts) and verify block by block.
 */
import { parse as losslessParse } from 'lossless-json';
import type { DataType, ElementType, Value } from '../schema/types.ts';
import { align8, corrupt, FLAG_VALIDITY, readHead, V1_HEADER_BYTES, verifyChunkBlocks, withKey, type ChunkBlocks } from './column-format.ts';
import { CODE_TO_TYPE, ELEMENT_TYPES, NUMERIC, type NumericArray } from './column-types.ts';

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
  if (bytes.byteOffset % 8 !== 0) bytes = new Uint8Array(bytes); // typed views need aligned offsets: a copy (a Buffer's slice() is a view)
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
