/**
 * A check of an LMDB data file (`data.mdb`) before it is opened. LMDB memory-maps the file and
 * trusts its meta pages: a file shorter than the last page the newest meta page names (a truncated
 * copy, a disk that filled during a copy) kills the process with SIGBUS on first access, which no
 * JavaScript can catch. Reading the two meta pages first turns that into a clear error.
 *
 * Layout (LMDB as vendored by lmdb-js): pages 0 and 1 are meta pages; each holds, after its page
 * header (24 bytes here, 16 in upstream LMDB), the magic 0xBEEFC0DE, the format version, the map
 * address and size, two database records of 48 bytes (the first one's pad field is the page size),
 * the last used page number and the transaction id. LMDB reads the meta page with the larger
 * transaction id; every page up to its last page must be in the file.
 */
import * as fs from 'node:fs';
import { CorruptDataError, StorageError } from '../../engine/errors.ts';
import { errCode, errMessage } from './fs-helpers.ts';

const MAGIC = 0xbeefc0de;
/** Page header sizes to try, lmdb-js's first. */
const HEADER_SIZES = [24, 16];
/** Page sizes LMDB may use, to find page 1 when page 0 is unreadable. */
const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];

/** What one meta page says. */
interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnId: bigint;
}

/**
 * Throws CorruptDataError naming `file` when it exists but cannot be a whole LMDB data file
 * (no valid meta page, or shorter than its last committed page); a missing or empty file is fine
 * (LMDB creates a new environment).
 */
export function checkLmdbDataFile(file: string, whatToDo: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return;
    throw new StorageError(`cannot open the LMDB data file ${file}: ${errMessage(err)}`, { cause: err });
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return;
    const read = (offset: number, length: number): Buffer => {
      const buf = Buffer.alloc(length);
      const n = offset < size ? fs.readSync(fd, buf, 0, length, offset) : 0;
      return buf.subarray(0, n);
    };
    const first = parseMeta(read(0, 256));
    const pageSizes = first ? [first.pageSize] : PAGE_SIZES;
    let second: Meta | undefined;
    for (const ps of pageSizes) if (!second) second = parseMeta(read(ps, 256));
    const metas = [first, second].filter((m): m is Meta => m !== undefined);
    if (metas.length === 0) {
      throw new CorruptDataError(
        `the LMDB data file ${file} (${size} bytes) has no valid meta page (magic 0x${MAGIC.toString(16)}): it is damaged or not an LMDB file; ${whatToDo}`,
      );
    }
    const newest = metas.reduce((a, b) => (b.txnId > a.txnId ? b : a));
    const needed = (newest.lastPage + 1n) * BigInt(newest.pageSize);
    if (BigInt(size) < needed) {
      throw new CorruptDataError(
        `the LMDB data file ${file} is truncated: it holds ${size} bytes but its last committed transaction (${newest.txnId}) uses pages up to byte ${needed}; ${whatToDo}`,
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The meta page at the start of `page`, if it is one. */
function parseMeta(page: Buffer): Meta | undefined {
  for (const h of HEADER_SIZES) {
    if (page.length < h + 136 || page.readUInt32LE(h) !== MAGIC) continue;
    const pageSize = page.readUInt32LE(h + 24);
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) continue;
    return { pageSize, lastPage: page.readBigUInt64LE(h + 120), txnId: page.readBigUInt64LE(h + 128) };
  }
  return undefined;
}
