/**
 * Binary WAL records: the mutations a channel carries (insert/upsert, delete, flush marker).
 *
 * Layout (little-endian; column blobs start at 8-byte aligned offsets so they decode zero-copy):
 * ```
 *  0  magic 'MGWR'
 *  4  format version u16
 *  6  kind u8        (1 insert, 2 delete, 3 flush, 4 compact)
 *  7  flags u8       (bit 0: upsert)
 *  8  ts u64
 * 16  collectionId u64
 *     flush ends here (24 bytes).
 * 24  partition: u32 byte length, UTF-8, pad to 8
 *     insert: u32 rowCount, u32 columnCount, then per column:
 *             u32 name byte length, u32 blob byte length, name UTF-8, pad to 8, column-codec blob, pad to 8
 *     delete: u32 blob byte length, u32 0, column-codec blob of the primary keys (Int64 or VarChar)
 *     compact: u32 JSON byte length, u32 0, UTF-8 JSON {outputSegmentId, inputs: [{segmentId, skipped}]}
 * ```
 * The dynamic field travels as a JSON column named `$meta`. The record has no checksum of its own: the
 * WAL framing carries one (FileWal: a CRC-32 per frame), and column blobs carry theirs (column-codec.ts).
 */
import { primaryField } from '../schema/primary-field.ts';
import { CorruptDataError } from '../errors.ts';
import type { InsertBatch } from '../schema/batch.ts';
import type { CollectionSchema, FieldSchema, PrimaryKey, Value } from '../schema/types.ts';
import { decodeColumn, encodeColumn, type DecodedColumn } from './column-codec.ts';

/** The 4-byte magic at the start of every WAL record. */
export const WAL_RECORD_MAGIC = 'MGWR';
/** The record format version this build writes and reads. */
export const WAL_RECORD_VERSION = 1;
/** Name of the dynamic-field column inside insert records. */
export const DYNAMIC_COLUMN = '$meta';

const MAGIC = [0x4d, 0x47, 0x57, 0x52]; // 'MGWR'
const KIND_CODE = { insert: 1, delete: 2, flush: 3, compact: 4 } as const;
const FLAG_UPSERT = 1;
const FIXED_BYTES = 24;

/** An insert or upsert of a batch of rows into one partition. */
export interface WalInsertRecord {
  kind: 'insert';
  /** Hybrid timestamp of the mutation. */
  ts: bigint;
  collectionId: number;
  partition: string;
  /** True for an upsert (overwrite existing keys); inserts of existing keys overwrite too (invariant 1). */
  upsert: boolean;
  batch: InsertBatch;
}

/** A delete of primary keys from one partition. */
export interface WalDeleteRecord {
  kind: 'delete';
  ts: bigint;
  collectionId: number;
  partition: string;
  pks: PrimaryKey[];
}

/** Seal the channel's growing segments of the collection at this point of the log. */
export interface WalFlushRecord {
  kind: 'flush';
  ts: bigint;
  collectionId: number;
}

/**
 * Commit of a compaction: the output segment (already written to the object store) replaces the
 * inputs; `skipped` lists each input's rows that were deleted when the output was built.
 */
export interface WalCompactRecord {
  kind: 'compact';
  ts: bigint;
  collectionId: number;
  partition: string;
  outputSegmentId: number;
  inputs: { segmentId: number; skipped: number[] }[];
}

/** Every record a WAL channel carries. */
export type WalRecordBody = WalInsertRecord | WalDeleteRecord | WalFlushRecord | WalCompactRecord;

/** Rounds up to the next multiple of 8. */
function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Encodes the batch's columns (declared fields, then `$meta`) as [name bytes, blob] pairs. */
function encodeInsertColumns(batch: InsertBatch, schema: CollectionSchema): [Uint8Array, Uint8Array][] {
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const cols: [Uint8Array, Uint8Array][] = [];
  const enc = new TextEncoder();
  for (const [name, values] of batch.columns) {
    const f = byName.get(name);
    if (!f) throw new TypeError(`cannot encode insert record: batch column '${name}' is not a field of the schema (fields: ${[...byName.keys()].join(', ')})`);
    if (values.length !== batch.rowCount) {
      throw new TypeError(`cannot encode insert record: column '${name}' has ${values.length} values but the batch has ${batch.rowCount} rows`);
    }
    cols.push([enc.encode(name), encodeColumn(f.dataType, values, { dim: f.dim, elementType: f.elementType })]);
  }
  if (batch.dynamic !== null) {
    if (!schema.enableDynamicField) {
      throw new TypeError('cannot encode insert record: the batch has dynamic ($meta) values but the schema has no dynamic field');
    }
    if (batch.dynamic.length !== batch.rowCount) {
      throw new TypeError(`cannot encode insert record: $meta has ${batch.dynamic.length} values but the batch has ${batch.rowCount} rows`);
    }
    cols.push([enc.encode(DYNAMIC_COLUMN), encodeColumn('JSON', batch.dynamic as Value[])]);
  }
  return cols;
}

/** Validates the numeric header fields shared by every kind. */
function checkHeader(r: WalRecordBody): void {
  if (typeof r.ts !== 'bigint' || r.ts < 0n || r.ts >= 1n << 64n) {
    throw new TypeError(`cannot encode WAL record: ts must be a bigint in [0, 2^64), got ${String(r.ts)}`);
  }
  if (!Number.isSafeInteger(r.collectionId) || r.collectionId < 0) {
    throw new TypeError(`cannot encode WAL record: collectionId must be a non-negative safe integer, got ${r.collectionId}`);
  }
}

/** Encodes a WAL record. `schema` gives each column's type, dim and element type. */
export function encodeWalRecord(record: WalRecordBody, schema: CollectionSchema): Uint8Array {
  if (!Object.hasOwn(KIND_CODE, record.kind)) {
    throw new TypeError(`cannot encode WAL record of unknown kind ${String((record as { kind: unknown }).kind)}; expected insert, delete, flush or compact`);
  }
  checkHeader(record);
  let partition: Uint8Array | null = null;
  let body: [Uint8Array, Uint8Array][] = [];
  let size = FIXED_BYTES;
  if (record.kind !== 'flush') {
    partition = new TextEncoder().encode(record.partition);
    size += align8(4 + partition.length);
    if (record.kind === 'insert') {
      body = encodeInsertColumns(record.batch, schema);
      size += 8;
      for (const [name, blob] of body) size += align8(8 + name.length) + align8(blob.length);
    } else if (record.kind === 'compact') {
      const blob = new TextEncoder().encode(JSON.stringify({ outputSegmentId: record.outputSegmentId, inputs: record.inputs }));
      body = [[new Uint8Array(0), blob]];
      size += 8 + align8(blob.length);
    } else {
      const pk = primaryField(schema);
      const blob = encodeColumn(pk.dataType, record.pks as Value[]);
      body = [[new Uint8Array(0), blob]];
      size += 8 + align8(blob.length);
    }
  }

  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint16(4, WAL_RECORD_VERSION, true);
  dv.setUint8(6, KIND_CODE[record.kind]);
  dv.setUint8(7, record.kind === 'insert' && record.upsert ? FLAG_UPSERT : 0);
  dv.setBigUint64(8, record.ts, true);
  dv.setBigUint64(16, BigInt(record.collectionId), true);
  if (record.kind === 'flush') return out;

  let pos = FIXED_BYTES;
  dv.setUint32(pos, partition!.length, true);
  out.set(partition!, pos + 4);
  pos += align8(4 + partition!.length);
  if (record.kind === 'insert') {
    dv.setUint32(pos, record.batch.rowCount, true);
    dv.setUint32(pos + 4, body.length, true);
    pos += 8;
    for (const [name, blob] of body) {
      dv.setUint32(pos, name.length, true);
      dv.setUint32(pos + 4, blob.length, true);
      out.set(name, pos + 8);
      pos += align8(8 + name.length);
      out.set(blob, pos);
      pos += align8(blob.length);
    }
  } else {
    const blob = body[0][1];
    dv.setUint32(pos, blob.length, true);
    out.set(blob, pos + 8);
  }
  return out;
}

/** Throws a CorruptDataError with the common advice. */
function corrupt(what: string): never {
  throw new CorruptDataError(`corrupt WAL record: ${what}; the log is damaged or was written for another schema — restore the channel from a replica or checkpoint`);
}

/** Reads a column blob of `len` bytes at `pos`, mapping codec failures to a record-level error. */
function readBlob(bytes: Uint8Array, pos: number, len: number, what: string): DecodedColumn {
  if (pos + len > bytes.length) corrupt(`${what} of ${len} bytes at offset ${pos} runs past the end (${bytes.length} bytes)`);
  try {
    return decodeColumn(bytes.subarray(pos, pos + len), what);
  } catch (err) {
    if (err instanceof CorruptDataError) corrupt(`${what}: ${err.message}`);
    throw err;
  }
}

/** Checks that a decoded column has the field's type, dim and element type. */
function checkColumnMatches(col: DecodedColumn, f: FieldSchema): void {
  if (col.type !== f.dataType) corrupt(`column '${f.name}' holds ${col.type} but the schema declares ${f.dataType}`);
  if (f.dataType === 'FloatVector' && col.dim !== f.dim) corrupt(`column '${f.name}' has dim ${col.dim} but the schema declares ${f.dim}`);
  if (f.dataType === 'Array' && col.elementType !== f.elementType) {
    corrupt(`column '${f.name}' holds ${col.elementType} elements but the schema declares ${f.elementType}`);
  }
}

/**
 * Decodes a record written by `encodeWalRecord`, checking its columns against `schema`. Throws
 * CorruptDataError on a bad magic, unknown version or kind, truncation or a schema mismatch.
 * FloatVector values are views into `bytes` (copied first only if `bytes` is not 8-byte aligned):
 * keep `bytes` unmodified while the batch is in use.
 */
export function decodeWalRecord(bytes: Uint8Array, schema: CollectionSchema): WalRecordBody {
  if (bytes.length < FIXED_BYTES) corrupt(`${bytes.length} bytes is shorter than the ${FIXED_BYTES}-byte header`);
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2] || bytes[3] !== MAGIC[3]) {
    corrupt(`magic is ${JSON.stringify(String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]))}, expected "${WAL_RECORD_MAGIC}"`);
  }
  // Column views need 8-byte alignment: copy once if the record is not aligned.
  if (bytes.byteOffset % 8 !== 0) bytes = new Uint8Array(bytes); // a copy at offset 0 (a Buffer's slice() would be a view)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true);
  if (version !== WAL_RECORD_VERSION) {
    throw new CorruptDataError(
      `WAL record format version ${version} is not readable by this build (reads version ${WAL_RECORD_VERSION}); upgrade Migrans before replaying this log`,
    );
  }
  const kindCode = dv.getUint8(6);
  const flags = dv.getUint8(7);
  const ts = dv.getBigUint64(8, true);
  const idBig = dv.getBigUint64(16, true);
  if (idBig > BigInt(Number.MAX_SAFE_INTEGER)) corrupt(`collectionId ${idBig} exceeds 2^53`);
  const collectionId = Number(idBig);
  if (flags & ~FLAG_UPSERT) corrupt(`unknown flags 0x${flags.toString(16)}`);

  if (kindCode === KIND_CODE.flush) {
    if (bytes.length !== FIXED_BYTES) corrupt(`flush record is ${bytes.length} bytes, expected ${FIXED_BYTES}`);
    return { kind: 'flush', ts, collectionId };
  }
  if (kindCode !== KIND_CODE.insert && kindCode !== KIND_CODE.delete && kindCode !== KIND_CODE.compact) corrupt(`unknown record kind ${kindCode}`);

  let pos = FIXED_BYTES;
  const need = (len: number, what: string) => {
    if (pos + len > bytes.length) corrupt(`${what} needs ${len} bytes at offset ${pos} but the record has ${bytes.length}`);
  };
  need(4, 'partition length');
  const pLen = dv.getUint32(pos, true);
  need(4 + pLen, 'partition name');
  const partition = Buffer.from(bytes.buffer, bytes.byteOffset + pos + 4, pLen).toString('utf8');
  pos += align8(4 + pLen);

  if (kindCode === KIND_CODE.compact) {
    need(8, 'compact header');
    const len = dv.getUint32(pos, true);
    need(8 + len, 'compact payload');
    let payload: { outputSegmentId: number; inputs: { segmentId: number; skipped: number[] }[] };
    try {
      payload = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + pos + 8, len).toString('utf8'));
    } catch (err) {
      corrupt(`compact payload is not JSON (${(err as Error).message})`);
    }
    if (!Number.isSafeInteger(payload.outputSegmentId) || !Array.isArray(payload.inputs)) corrupt('compact payload lacks outputSegmentId or inputs');
    return { kind: 'compact', ts, collectionId, partition, outputSegmentId: payload.outputSegmentId, inputs: payload.inputs };
  }

  if (kindCode === KIND_CODE.delete) {
    need(8, 'delete header');
    const len = dv.getUint32(pos, true);
    const col = readBlob(bytes, pos + 8, len, 'primary keys');
    const pk = primaryField(schema);
    if (col.type !== pk.dataType) corrupt(`primary keys are ${col.type} but the schema's primary key '${pk.name}' is ${pk.dataType}`);
    if (col.validity !== null) corrupt('primary keys contain nulls');
    if (pos + 8 + align8(len) !== bytes.length) {
      corrupt(`record is ${bytes.length} bytes but its keys end at ${pos + 8 + align8(len)}`);
    }
    return { kind: 'delete', ts, collectionId, partition, pks: col.toArray() as PrimaryKey[] };
  }

  need(8, 'insert header');
  const rowCount = dv.getUint32(pos, true);
  const columnCount = dv.getUint32(pos + 4, true);
  pos += 8;
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const columns = new Map<string, Value[]>();
  let dynamic: (Record<string, unknown> | null)[] | null = null;
  for (let c = 0; c < columnCount; c++) {
    need(8, `column ${c} header`);
    const nameLen = dv.getUint32(pos, true);
    const blobLen = dv.getUint32(pos + 4, true);
    need(8 + nameLen, `column ${c} name`);
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + pos + 8, nameLen).toString('utf8');
    pos += align8(8 + nameLen);
    const col = readBlob(bytes, pos, blobLen, `column '${name}'`);
    pos += align8(blobLen);
    if (col.rowCount !== rowCount) corrupt(`column '${name}' has ${col.rowCount} rows but the record has ${rowCount}`);
    if (name === DYNAMIC_COLUMN && !byName.has(name)) {
      if (!schema.enableDynamicField) corrupt('the record has $meta values but the schema has no dynamic field');
      if (col.type !== 'JSON') corrupt(`$meta column holds ${col.type}, expected JSON`);
      dynamic = col.toArray() as (Record<string, unknown> | null)[];
      continue;
    }
    const f = byName.get(name);
    if (!f) corrupt(`column '${name}' is not a field of the schema`);
    checkColumnMatches(col, f);
    if (columns.has(name)) corrupt(`column '${name}' appears twice`);
    columns.set(name, col.toArray());
  }
  if (pos !== bytes.length) corrupt(`record is ${bytes.length} bytes but its columns end at ${pos}`);
  return { kind: 'insert', ts, collectionId, partition, upsert: (flags & FLAG_UPSERT) !== 0, batch: { rowCount, columns, dynamic } };
}
