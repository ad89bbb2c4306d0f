/**
 * Encoding of column chunks: plans each column kind's payload (fixed-width numbers and Bool, VarChar
 * and JSON text with offsets, Array as offsets plus a flattened element payload, FloatVector) before
 * allocating, then fills one buffer and seals it with column-format.ts. Values of the wrong type are
 * refused with a TypeError naming the row, since they mean a caller skipped validation.
 */
import { stringify as losslessStringify } from 'lossless-json';
import type { DataType, ElementType, Value } from '../schema/types.ts';
import { align8, chunkLayout, FLAG_VALIDITY, sealChunk } from './column-format.ts';
import { DATA_TYPE_CODE, ELEMENT_TYPES, INT64_MAX, INT64_MIN, NUMERIC } from './column-types.ts';

/** Options of `encodeColumn`. */
export interface ColumnOptions {
  /** FloatVector: the dimension (required). */
  dim?: number;
  /** Array: the element type (required). */
  elementType?: ElementType;
}

/** A Buffer over `out` for fast UTF-8 writes (no copy). */
function bufferOver(out: Uint8Array): Buffer {
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

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
