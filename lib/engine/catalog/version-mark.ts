/**
 * Values of the catalog's id marks: versioned KV keys whose meaning is their version (the end of the
 * last claimed id block). The value is the CRC-32 of the version (u64 LE), so a damaged version is
 * refused instead of being taken for a lower mark, which would hand out ids a second time. An empty
 * value was written before checksums and is still read.
 */
import { crc32 } from '../codec/crc32.ts';
import { checksumMismatch } from '../errors.ts';

/** The value stored with a mark of `version`. */
export function versionMarkValue(version: bigint): Uint8Array {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, version, true);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, crc32(v), true);
  return out;
}

/** Throws a CorruptDataError naming `key` when a stored mark's value does not match its version. */
export function checkVersionMark(key: string, mark: { value: Uint8Array; version: bigint }): void {
  if (mark.value.length === 0) return;
  const expected = mark.value.length === 4 ? new DataView(mark.value.buffer, mark.value.byteOffset, 4).getUint32(0, true) : -1;
  const actual = new DataView(versionMarkValue(mark.version).buffer).getUint32(0, true);
  if (actual !== expected) throw checksumMismatch('catalog entry', key, `the id mark (version ${mark.version})`, expected, actual);
}
