/**
 * The primary-key index (milvus-io/milvus#11182): primary key → the one live row (segment, offset),
 * versioned by the mutation's timestamp, in the KvStore.
 *
 * Entries are written only by a channel's consumer, the sequencing point for its keys, with
 * `putIfNewer(version = ts)`, so a replayed older mutation never overwrites a newer one. An entry
 * remembers the row it superseded (`prev`) and a delete leaves a tombstone that remembers the row it
 * removed: replaying a mutation whose entry is already written re-applies exactly the same delete
 * bits, which is what makes replay after a crash idempotent.
 *
 * Entry value (format 2): flags u8 | location (segment f64, offset u32) | prev (the same) | CRC-32
 * u32 of the 25 bytes before it followed by the entry's version (u64 little-endian), so damage to
 * the value or to the version the KV keeps beside it is a CorruptDataError naming the key. Format 1
 * entries (the 25 bytes, no CRC) are still read.
 */
import { createHash } from 'node:crypto';
import { crc32 } from './codec/crc32.ts';
import { pkIndexPrefix } from './catalog/key-layout.ts';
import { checksumMismatch, CorruptDataError } from './errors.ts';
import type { KvStore } from './ports/kv-store.ts';
import type { PrimaryKey } from './schema/types.ts';

/** A row location. */
export interface RowLocation {
  segmentId: number;
  offset: number;
}

/** One PK-index entry. */
export interface PkEntry {
  /** The row holding the key, or for a tombstone the row the delete removed (may be absent). */
  location?: RowLocation;
  /** The row this entry's mutation superseded (its delete bit must be set). */
  prev?: RowLocation;
  /** The key is deleted as of `version`. */
  deleted: boolean;
  /** Timestamp of the mutation that wrote the entry. */
  version: bigint;
}

const FLAG_DELETED = 1;
const FLAG_LOCATION = 2;
const FLAG_PREV = 4;
/** Bytes of a format-1 entry, and of a format-2 entry before its CRC. */
const ENTRY_BYTES = 1 + 2 * (8 + 4);
const CHECKED_ENTRY_BYTES = ENTRY_BYTES + 4;

/** CRC of an entry's first 25 bytes followed by its version. */
function entryCrc(bytes: Uint8Array, version: bigint): number {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt.asUintN(64, version), true);
  return crc32(v, crc32(bytes.subarray(0, ENTRY_BYTES)));
}

/** Encodes an entry as fixed-size bytes: flags, location, prev, CRC. */
function encodeEntry(e: PkEntry): Uint8Array {
  const buf = new Uint8Array(CHECKED_ENTRY_BYTES);
  const view = new DataView(buf.buffer);
  let flags = e.deleted ? FLAG_DELETED : 0;
  if (e.location) {
    flags |= FLAG_LOCATION;
    view.setFloat64(1, e.location.segmentId, true);
    view.setUint32(9, e.location.offset, true);
  }
  if (e.prev) {
    flags |= FLAG_PREV;
    view.setFloat64(13, e.prev.segmentId, true);
    view.setUint32(21, e.prev.offset, true);
  }
  buf[0] = flags;
  view.setUint32(ENTRY_BYTES, entryCrc(buf, e.version), true);
  return buf;
}

/** Decodes an entry of either format, verifying a format-2 entry's CRC; `key` names it in errors. */
function decodeEntry(bytes: Uint8Array, version: bigint, key: string): PkEntry {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length === CHECKED_ENTRY_BYTES) {
    const expected = view.getUint32(ENTRY_BYTES, true);
    const actual = entryCrc(bytes, version);
    if (actual !== expected) throw checksumMismatch('PK-index entry', key, `the entry (version ${version})`, expected, actual);
  } else if (bytes.length !== ENTRY_BYTES) {
    throw new CorruptDataError(
      `PK-index entry ${key} is damaged: ${bytes.length} bytes, expected ${CHECKED_ENTRY_BYTES} (or ${ENTRY_BYTES} for format 1); restore the KV store from a backup`,
      { key, what: 'PK-index entry' },
    );
  }
  const flags = bytes[0];
  return {
    deleted: (flags & FLAG_DELETED) !== 0,
    location: flags & FLAG_LOCATION ? { segmentId: view.getFloat64(1, true), offset: view.getUint32(9, true) } : undefined,
    prev: flags & FLAG_PREV ? { segmentId: view.getFloat64(13, true), offset: view.getUint32(21, true) } : undefined,
    version,
  };
}

const SIGN = 1n << 63n;

/** VarChar keys longer than this many UTF-8 bytes are stored under their SHA-256 (KV keys are short). */
const MAX_PLAIN_VARCHAR_BYTES = 512;

/**
 * Key of a primary key: Int64 keys as 16 hex digits of the sign-flipped value (so byte order is
 * numeric order), VarChar keys as `s` + the string, or `h` + its SHA-256 when it is long.
 */
export function encodePk(pk: PrimaryKey): string {
  if (typeof pk === 'bigint') return 'i' + (BigInt.asUintN(64, pk) ^ SIGN).toString(16).padStart(16, '0');
  if (pk.length * 3 <= MAX_PLAIN_VARCHAR_BYTES || Buffer.byteLength(pk) <= MAX_PLAIN_VARCHAR_BYTES) return 's' + pk;
  return 'h' + createHash('sha256').update(pk).digest('hex');
}

/** PK-index access for one collection. */
export class PkIndex {
  private readonly prefix: string;

  constructor(
    private readonly kv: KvStore,
    collectionId: number,
  ) {
    this.prefix = pkIndexPrefix(collectionId);
  }

  private key(pk: PrimaryKey): string {
    return this.prefix + encodePk(pk);
  }

  /** Entries for many keys, in order; undefined where the key was never written. */
  async lookup(pks: PrimaryKey[]): Promise<(PkEntry | undefined)[]> {
    if (pks.length === 0) return [];
    const keys = pks.map((pk) => this.key(pk));
    const raw = await this.kv.batchGetVersioned(keys);
    return raw.map((r, i) => (r ? decodeEntry(r.value, r.version, keys[i]) : undefined));
  }

  /** Writes entries with putIfNewer semantics; returns per entry whether it stored. */
  async write(entries: { pk: PrimaryKey; entry: PkEntry }[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    return this.kv.batchPutIfNewer(entries.map(({ pk, entry }) => ({ key: this.key(pk), value: encodeEntry(entry), version: entry.version })));
  }

  /** Removes the whole index of the collection. */
  async drop(): Promise<void> {
    await this.kv.deletePrefix(this.prefix);
  }
}
