/**
 * The column codec's public face: the columnar encoding of one field's values, used for segment
 * chunks (insert_log) and WAL insert columns. The work lives beside it by concept: column-format.ts
 * (chunk layout, header, block table and checksums), column-types.ts (type codes and widths),
 * column-encode.ts (payload encoders) and column-decode.ts (verified zero-copy decoding and the
 * FloatVector range layout). Importers keep using this module.
 */
export {
  CHUNK_BLOCK_BYTES,
  chunkHeadBytes,
  COLUMN_FORMAT_VERSION,
  COLUMN_FORMAT_VERSION_V1,
  COLUMN_HEADER_BYTES,
  COLUMN_MAGIC,
  verifyChunkBlocks,
  type ChunkBlocks,
} from './column-format.ts';
/** On-disk type codes (Milvus's DataType numbers). */
export { DATA_TYPE_CODE } from './column-types.ts';
/** Encoders: any column kind from values, FloatVector straight from flat vectors. */
export { encodeColumn, encodeVectors, type ColumnOptions } from './column-encode.ts';
/** Verified decoding, and where a FloatVector chunk's vectors lie. */
export { decodeColumn, vectorChunkLayout, type DecodedColumn, type VectorChunkLayout } from './column-decode.ts';
