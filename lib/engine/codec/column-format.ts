/**
 * Framing of a column chunk: the header, the block table and the checksums around a body, and
 * reading them back (magic and version checks, head CRC, per-block CRCs for range readers). The
 * encoders and the decoder (column-encode.ts, column-decode.ts) fill and read the body; this module
 * owns the layout, described once here. A column chunk is the columnar encoding of one field's
 * values: the body of a segment chunk (insert_log) and of a WAL insert column.
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
import { checksumMismatch, CorruptDataError } from '../errors.ts';
import type { DataType } from '../schema/types.ts';
import { DATA_TYPE_CODE } from './column-types.ts';
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
export const V1_HEADER_BYTES = 16;
/**
 * Body bytes per checksummed block. A range read of a chunk reads and verifies whole blocks: 16 KiB
 * keeps a single-row read cheap (32 rows of 128 floats; a few µs of read and CRC) while the table
 * stays small (4 bytes per block: 150 KB for 600 MB, read once per open).
 */
export const CHUNK_BLOCK_BYTES = 16 * 1024;

/** The magic as bytes. */
export const MAGIC = [0x4d, 0x47, 0x43, 0x48]; // 'MGCH'
/** Header flag: a validity bitmap opens the body. */
export const FLAG_VALIDITY = 1;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Payloads are typed-array views, which use the platform byte order.
  throw new Error('column-codec requires a little-endian platform');
}

/** Rounds up to the next multiple of 8. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Writes the header of a chunk laid out by `chunkLayout`, then checksums: each block of the body,
 * then the head (header and block table). Called once the body is filled.
 */
export function sealChunk(out: Uint8Array, type: DataType, flags: number, rowCount: number, aux: number, blocks: number, bodyStart: number): void {
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
export function chunkLayout(bodyBytes: number): { blocks: number; bodyStart: number } {
  const blocks = Math.ceil(bodyBytes / CHUNK_BLOCK_BYTES);
  return { blocks, bodyStart: align8(COLUMN_HEADER_BYTES + 4 * blocks) };
}

/** Throws a CorruptDataError with the common advice (decodeColumn adds the chunk's key). */
export function corrupt(what: string): never {
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
export interface ChunkHead {
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
export function readHead(head: Uint8Array, totalBytes: number, key: string): ChunkHead {
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

/** Runs `fn`, giving CorruptDataErrors that name no object the chunk's key. */
export function withKey<T>(key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CorruptDataError && err.key === undefined) {
      throw new CorruptDataError(err.message.replace(/^(corrupt )?column chunk/, (m) => `${m} ${key}:`).replace(/: ?:/, ':'), { key, what: 'column chunk' });
    }
    throw err;
  }
}
