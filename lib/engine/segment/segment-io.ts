/**
 * Persists segments to the object store and loads them back, in Milvus-like keys:
 *   insert_log/{collection}/{partition}/{segment}/{field}/{log}   one column (chunk) per field
 *   delta_log/{collection}/{partition}/{segment}/{ts}             deleted row offsets (listed on load)
 *   index_files/{collection}/{partition}/{segment}/{field}/{build}.hnsw   usearch HNSW file
 * Field ids: the schema's ids, 1 for the row timestamps (Milvus's Timestamp system field) and
 * DYNAMIC_FIELD_ID for `$meta`.
 *
 * Checksums: chunks carry per-block CRCs (column-codec.ts), verified when decoded or, for vectors
 * read lazily from a local copy, as each block is read (vector-column.ts); delta logs carry a
 * CRC-32 of their whole content (format version 2; version 1 without it is still read); index
 * files carry the index adapter's checksum footer, verified when the file is opened. A mismatch
 * is a CorruptDataError naming the object key.
 */
import { checksumMismatch, CorruptDataError, StorageError } from '../errors.ts';
import type { SegmentMeta } from '../catalog/catalog.ts';
import { chunkKey, deltaLogKey, deltaLogPrefix } from '../catalog/key-layout.ts';
import { chunkHeadBytes, COLUMN_HEADER_BYTES, decodeColumn, encodeColumn, encodeVectors, vectorChunkLayout } from '../codec/column-codec.ts';
import { crc32 } from '../codec/crc32.ts';
import type { LocalFileHandle, LocalFiles } from '../ports/local-files.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { CollectionSchema, PrimaryKey, Value } from '../schema/types.ts';
import { Segment, type ScalarColumn } from './segment.ts';
import { VectorColumn } from './vector-column.ts';

/** Field id of the row-timestamp column (Milvus's system field 1). */
export const TIMESTAMP_FIELD_ID = 1;
/** Field id of the `$meta` dynamic column. */
export const DYNAMIC_FIELD_ID = 99;

/**
 * Delta log layout (little-endian): magic 'MGDL' u32 | version u16 | reserved u16 | count u32 |
 * version 2: CRC-32 u32 of bytes [0, 12) and the offsets | u32 offsets[count]. Version 1 has no
 * CRC (the offsets start at byte 12); it is still read.
 */
const DELTA_MAGIC = 0x4c44474d; // 'MGDL'
const DELTA_VERSION = 2;
const DELTA_VERSION_V1 = 1;
const DELTA_HEADER_BYTES = 16;

/** Writes every column of a sealed segment. */
export async function writeSegmentChunks(store: ObjectStore, seg: Segment, schema: CollectionSchema): Promise<void> {
  const meta = seg.meta;
  const puts: Promise<void>[] = [];
  const n = seg.rowCount;
  for (const f of schema.fields) {
    let bytes: Uint8Array;
    if (f.isPrimary)
      bytes = encodeColumn(
        f.dataType,
        Array.from({ length: n }, (_, i) => seg.pks[i]),
        {},
      );
    else if (f.dataType === 'FloatVector') bytes = encodeVectors(seg.vectors(f.name).loadedData(), f.dim!);
    else {
      const col = seg.scalar(f.name)!;
      const values: Value[] = new Array(n);
      for (let i = 0; i < n; i++) values[i] = col.get(i);
      bytes = encodeColumn(f.dataType, values, { elementType: f.elementType });
    }
    puts.push(store.put(chunkKey(meta, f.fieldId), bytes));
  }
  puts.push(
    store.put(
      chunkKey(meta, TIMESTAMP_FIELD_ID),
      encodeColumn(
        'Int64',
        Array.from({ length: n }, (_, i) => BigInt.asIntN(64, seg.rowTs[i])),
        {},
      ),
    ),
  );
  const dyn = seg.dynamicColumn();
  if (dyn) puts.push(store.put(chunkKey(meta, DYNAMIC_FIELD_ID), encodeColumn('JSON', dyn.slice(0, n) as Value[], {})));
  await Promise.all(puts);
}

/**
 * Loads a flushed segment's columns and delta logs (indexes are attached by the caller). Vector
 * columns are read lazily from local disk (through `files`) when `coldVectors` gives a local copy
 * of the chunk, and not at all with `withoutVectors` (the reason a read of them gives).
 *
 * Int64 primary keys and row timestamps stay typed-array views of their chunks (no object per row
 * for the decoder to allocate and every GC to trace: two million of them at 1M rows). Vector
 * columns that an index file covers are read lazily from a local chunk file (vector-column.ts):
 * the index answers searches meanwhile, and reads of the raw vectors wait for them.
 */
export async function readSegment(
  store: ObjectStore,
  meta: SegmentMeta,
  schema: CollectionSchema,
  options: { files?: LocalFiles; coldVectors?: (key: string) => Promise<string>; withoutVectors?: string } = {},
): Promise<Segment> {
  const scalars = new Map<string, ScalarColumn>();
  const vectors = new Map<string, VectorColumn>();
  let pks: ArrayLike<PrimaryKey> = [];
  await Promise.all(
    schema.fields.map(async (f) => {
      const key = chunkKey(meta, f.fieldId);
      if (f.dataType === 'FloatVector' && options.withoutVectors !== undefined) {
        return void vectors.set(f.name, VectorColumn.unavailable(f.dim!, meta.rowCount, `segment ${meta.segmentId} field ${f.name}: ${options.withoutVectors}`));
      }
      if (f.dataType === 'FloatVector' && options.coldVectors && options.files) {
        return void vectors.set(f.name, coldVectorColumn(options.files, await options.coldVectors(key), key, meta));
      }
      if (f.dataType === 'FloatVector' && meta.indexFiles[f.name] && options.files) {
        const lazy = lazyVectors(options.files, store, key, meta);
        if (lazy) return void vectors.set(f.name, lazy);
      }
      const col = decodeColumn(await store.get(key), key);
      if (col.rowCount !== meta.rowCount) {
        throw new CorruptDataError(`segment ${meta.segmentId} field ${f.name}: chunk has ${col.rowCount} rows, catalog says ${meta.rowCount}`);
      }
      if (f.isPrimary) {
        if (col.numeric instanceof BigInt64Array && col.validity === null) pks = col.numeric;
        else {
          const list: PrimaryKey[] = new Array(col.rowCount);
          for (let i = 0; i < col.rowCount; i++) list[i] = col.get(i) as PrimaryKey;
          pks = list;
        }
      } else if (f.dataType === 'FloatVector') vectors.set(f.name, new VectorColumn(f.dim!, col.vectors!));
      else scalars.set(f.name, col);
    }),
  );
  const tsKey = chunkKey(meta, TIMESTAMP_FIELD_ID);
  const tsCol = decodeColumn(await store.get(tsKey), tsKey);
  let rowTs: ArrayLike<bigint>;
  if (tsCol.numeric instanceof BigInt64Array && tsCol.validity === null) {
    // The same bits read unsigned: what BigInt.asUintN(64, …) of each value gives.
    rowTs = new BigUint64Array(tsCol.numeric.buffer, tsCol.numeric.byteOffset, tsCol.numeric.length);
  } else {
    const list: bigint[] = new Array(tsCol.rowCount);
    for (let i = 0; i < tsCol.rowCount; i++) list[i] = BigInt.asUintN(64, tsCol.get(i) as bigint);
    rowTs = list;
  }
  let dynamic: (Record<string, unknown> | null)[] | null = null;
  if (schema.enableDynamicField) {
    const dynKey = chunkKey(meta, DYNAMIC_FIELD_ID);
    const d = decodeColumn(await store.get(dynKey), dynKey);
    dynamic = new Array(d.rowCount);
    for (let i = 0; i < d.rowCount; i++) dynamic[i] = d.get(i) as Record<string, unknown> | null;
  }
  const seg = Segment.sealed(meta, schema, { pks, rowTs, scalars, vectors, dynamic });
  for (const key of await store.list(deltaLogPrefix(meta))) seg.applyDeltaLog(decodeDeltaLog(await store.get(key), key));
  seg.syncDeletes = true;
  return seg;
}

/**
 * A vector column over the local copy `file` of the vector chunk `key`, read only as rows are asked
 * for (a segment outside this process's share: its vectors stay on disk).
 */
export function coldVectorColumn(files: LocalFiles, file: string, key: string, meta: SegmentMeta): VectorColumn {
  let handle: LocalFileHandle;
  try {
    handle = files.open(file);
  } catch (err) {
    throw new StorageError(`cannot read the vector chunk ${key} from its local copy ${file}: ${(err as Error).message}`, { cause: err });
  }
  const column = vectorFileColumn(handle, key, meta, false);
  if (!column) throw new CorruptDataError(`segment ${meta.segmentId} vector chunk ${key} has a validity bitmap; FloatVector chunks never do`, { key, what: 'column chunk' });
  return column;
}

/** A vector column read in the background from the chunk's local file, when the store has one. */
function lazyVectors(files: LocalFiles, store: ObjectStore, key: string, meta: SegmentMeta): VectorColumn | undefined {
  const file = store.localPath?.(key);
  if (!file) return undefined;
  let handle: LocalFileHandle;
  try {
    handle = files.open(file);
  } catch {
    return undefined; // no local copy: the eager path reports a missing chunk as the store does
  }
  return vectorFileColumn(handle, key, meta, true);
}

/**
 * A vector column over an open local chunk file, which it takes over (its head read and verified
 * now, its blocks as they are read), or undefined for a chunk that cannot be read in place (a
 * validity bitmap; the file is closed then).
 */
function vectorFileColumn(handle: LocalFileHandle, key: string, meta: SegmentMeta, background: boolean): VectorColumn | undefined {
  const file = handle.path;
  try {
    const size = handle.size;
    let head: Uint8Array;
    try {
      const first = new Uint8Array(Math.min(size, COLUMN_HEADER_BYTES));
      handle.readSync(first, 0);
      head = new Uint8Array(chunkHeadBytes(first, size, key));
      handle.readSync(head, 0);
    } catch (err) {
      if (err instanceof CorruptDataError) throw err;
      throw new StorageError(`cannot read the vector chunk ${key} from its local copy ${file}: ${(err as Error).message}`, { cause: err });
    }
    const layout = vectorChunkLayout(head, size, key);
    if (!layout) {
      handle.close();
      return undefined;
    }
    if (layout.rowCount !== meta.rowCount) {
      throw new CorruptDataError(`segment ${meta.segmentId} vector chunk ${key}: chunk has ${layout.rowCount} rows, catalog says ${meta.rowCount}`, { key, what: 'column chunk' });
    }
    const verify = layout.blocks ? { blocks: layout.blocks, key } : null;
    return VectorColumn.fromFile(layout.dim, layout.rowCount, handle, layout.payloadOffset, background, verify);
  } catch (err) {
    handle.close();
    throw err;
  }
}

/**
 * Persists the segment's deletes since the last delta log under a key named by `seq` (the
 * timestamp of the mutation that caused them, so a replay rewrites the same object); returns the
 * key, or undefined when there was nothing to write.
 */
export async function writeDeltaLog(store: ObjectStore, seg: Segment, seq: bigint): Promise<string | undefined> {
  const offsets = seg.pendingDeletes;
  if (offsets.length === 0) return undefined;
  seg.pendingDeletes = [];
  const buf = new Uint8Array(DELTA_HEADER_BYTES + 4 * offsets.length);
  const view = new DataView(buf.buffer);
  view.setUint32(0, DELTA_MAGIC, true);
  view.setUint16(4, DELTA_VERSION, true);
  view.setUint32(8, offsets.length, true);
  for (let i = 0; i < offsets.length; i++) view.setUint32(DELTA_HEADER_BYTES + 4 * i, offsets[i], true);
  view.setUint32(12, deltaCrc(buf), true);
  const key = deltaLogKey(seg.meta, seq);
  try {
    await store.put(key, buf);
  } catch (err) {
    seg.pendingDeletes = offsets.concat(seg.pendingDeletes);
    throw err;
  }
  return key;
}

/** CRC of a version-2 delta log: bytes [0, 12) followed by the offsets. */
function deltaCrc(bytes: Uint8Array): number {
  return crc32(bytes.subarray(DELTA_HEADER_BYTES), crc32(bytes.subarray(0, 12)));
}

/** Decodes a delta log (either version), verifying a version-2 log's checksum. */
export function decodeDeltaLog(bytes: Uint8Array, key: string): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string) => new CorruptDataError(`delta log ${key}: ${what}; the object is damaged — restore it from a backup`, { key, what: 'delta log' });
  if (bytes.byteLength < 12 || view.getUint32(0, true) !== DELTA_MAGIC) throw bad('bad magic number');
  const version = view.getUint16(4, true);
  if (version !== DELTA_VERSION && version !== DELTA_VERSION_V1) throw bad(`format version ${version}, this build reads ${DELTA_VERSION_V1} and ${DELTA_VERSION}`);
  const n = view.getUint32(8, true);
  const start = version === DELTA_VERSION_V1 ? 12 : DELTA_HEADER_BYTES;
  if (version === DELTA_VERSION) {
    if (bytes.byteLength < DELTA_HEADER_BYTES) throw bad(`truncated (${bytes.byteLength} bytes)`);
    const expected = view.getUint32(12, true);
    const actual = deltaCrc(bytes);
    if (actual !== expected) throw checksumMismatch('delta log', key, 'its content', expected, actual);
  }
  if (bytes.byteLength !== start + 4 * n) throw bad(`${bytes.byteLength} bytes for ${n} offsets`);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getUint32(start + 4 * i, true);
  return out;
}
