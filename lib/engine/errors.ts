/**
 * The engine's error types. Every adapter translates SDK and filesystem failures into these, and the
 * REST layer maps `MilvusError.code` straight onto Milvus's `{code, message}` envelope.
 */

/** Milvus error codes used on the wire (pkg/util/merr/errors.go). */
export const ErrorCode = {
  CollectionNotFound: 100,
  CollectionNotLoaded: 101,
  PartitionNotFound: 200,
  IndexNotFound: 700,
  IndexDuplicate: 702,
  DatabaseNotFound: 800,
  InvalidParameter: 1100,
  AliasNotFound: 1600,
  AliasNameConflict: 1601,
  AliasAlreadyExists: 1602,
  FieldNotFound: 1700,
  NotAuthenticated: 1800,
  BadJson: 1801,
  MissingParameter: 1802,
  BadInsertData: 1804,
  BadPrimaryKey: 1806,
  Timeout: 10001,
  Unexpected: 65535,
} as const;

/** An error a client sees as `{code, message}`; `code` is one of Milvus's error codes. */
export class MilvusError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'MilvusError';
  }
}

/** Shorthand for the most common client error: a parameter with a bad value (code 1100). */
export function invalidParameter(message: string): MilvusError {
  return new MilvusError(ErrorCode.InvalidParameter, `${message}: invalid parameter`);
}

/** Code 100 with Milvus's describe-path wording. */
export function collectionNotFound(name: string, db = 'default'): MilvusError {
  return new MilvusError(ErrorCode.CollectionNotFound, `can't find collection[database=${db}][collection=${name}]`);
}

/** A key or object the storage layer does not hold. */
export class NotFoundError extends Error {
  constructor(readonly key: string, what = 'object') {
    super(`${what} not found: ${key}`);
    this.name = 'NotFoundError';
  }
}

/** A storage operation that failed for a reason other than a missing key (I/O, throttling, network). */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** A persisted file whose magic number, version or checksum is not what this build reads. */
export class CorruptDataError extends Error {
  /** The damaged object (object key, KV key or file path), when known. */
  readonly key: string | undefined;
  /** What kind of object it is (e.g. 'column chunk', 'delta log', 'index file', 'catalog entry'). */
  readonly what: string | undefined;
  /** The checksum or value the reader expected, when the damage is a mismatch. */
  readonly expected: string | undefined;
  /** The checksum or value the reader found. */
  readonly actual: string | undefined;

  constructor(message: string, details: CorruptDataDetails = {}) {
    super(message);
    this.name = 'CorruptDataError';
    this.key = details.key;
    this.what = details.what;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

// ---------------------------------------------------------------- growing-data memory budget

/** Milvus's ErrServiceQuotaExceeded (pkg/util/merr: "quota exceeded", code 9). */
export const QUOTA_EXCEEDED_CODE = 9;

/**
 * An insert refused because growing data (with sealed segments not yet flushed and inserts not yet
 * applied) would pass the memory limit; nothing of it was written. Retry once flushes catch up.
 */
export class MemoryQuotaError extends MilvusError {
  constructor(
    /** Estimated bytes of the refused insert. */
    readonly requestBytes: number,
    /** Bytes counted when it came. */
    readonly usedBytes: number,
    /** The limit it would have passed. */
    readonly limitBytes: number,
    /** The configured growing-data budget (the limit is 1.5 × it). */
    readonly budgetBytes: number,
  ) {
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    const detail =
      requestBytes > limitBytes
        ? `this insert alone holds about ${mib(requestBytes)}, more than the ${mib(limitBytes)} limit of growing data (1.5 × the growing budget of ${budgetBytes} bytes); split it into smaller batches or raise MIGRANS_GROWING_BUDGET_BYTES`
        : `growing and not yet flushed data holds about ${mib(usedBytes)} and this insert about ${mib(requestBytes)}, past the ${mib(limitBytes)} limit (1.5 × the growing budget of ${budgetBytes} bytes); retry in a moment, once sealed segments are flushed, or raise MIGRANS_GROWING_BUDGET_BYTES`;
    super(QUOTA_EXCEEDED_CODE, `quota exceeded[reason=memory quota exceeded, please allocate more resources]: ${detail}`);
    this.name = 'MemoryQuotaError';
  }
}

// ---------------------------------------------------------------- store: process and DDL safety

/** Another process owns the data directory (its lock file names a live process). */
export class DataDirInUseError extends Error {
  constructor(readonly dataDir: string, readonly pid: number, readonly hostname: string, readonly lockFile: string) {
    super(`data directory ${dataDir} is in use by pid ${pid} on ${hostname}; stop that process or use another --data-dir (if it is gone and this persists, remove ${lockFile})`);
    this.name = 'DataDirInUseError';
  }
}

/** A write the disk had no room for (ENOSPC, EDQUOT) and that was undone; `path` is where it failed. */
export class DiskFullError extends StorageError {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`the disk holding ${path} is full and nothing was written; free some space and retry`, options);
    this.name = 'DiskFullError';
  }
}

/** A read, write or load of a collection that failed to open; `cause` is what was found (often a CorruptDataError). */
export class CollectionDamagedError extends MilvusError {
  constructor(readonly collection: string, reason: string, override readonly cause: Error) {
    super(ErrorCode.CollectionNotLoaded, `collection ${collection} is damaged and cannot be served: ${reason}; restore the data directory from a backup, or drop the collection`);
    this.name = 'CollectionDamagedError';
  }
}

/** Milvus's code for "disk quota exceeded" (merr ErrServiceDiskLimitExceeded). */
export const DISK_LIMIT_CODE = 7;

// ---------------------------------------------------------------- checksums on persistent formats

/** The optional fields of a CorruptDataError. */
export interface CorruptDataDetails {
  key?: string;
  what?: string;
  expected?: string;
  actual?: string;
}

/** Formats a CRC-32 as 8 hex digits, as checksum errors show it. */
function crcHex(crc: number): string {
  return `0x${(crc >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * The error of a checksum mismatch: names the object (`key`), its kind (`what`) and the part that
 * failed (`part`, e.g. 'block 3 of 12'), with both checksums.
 */
export function checksumMismatch(what: string, key: string, part: string, expected: number, actual: number): CorruptDataError {
  return new CorruptDataError(
    `${what} ${key} is damaged: checksum of ${part} is ${crcHex(actual)}, expected ${crcHex(expected)}; restore the object from a backup or its source (WAL replay, re-flush or index rebuild)`,
    { key, what, expected: crcHex(expected), actual: crcHex(actual) },
  );
}

// ---------------------------------------------------------------- WAL integrity

/**
 * A WAL channel damaged somewhere other than a torn last frame (a write that was never
 * acknowledged): `file` is bad from byte `offset` on. Records from there cannot be read, so the
 * channel refuses appends rather than accept writes nobody could apply.
 */
export class WalCorruptError extends CorruptDataError {
  constructor(readonly channel: string, readonly file: string, readonly offset: number, message: string) {
    super(message);
    this.name = 'WalCorruptError';
  }
}

/**
 * A channel's WAL ends before a position the catalog relies on (its checkpoint, or the records a
 * segment was built from): those records are missing from the log (a lost or truncated WAL file).
 * Writes appended now would get positions the replay skips, so the collection is refused instead.
 */
export class WalBehindCheckpointError extends CorruptDataError {
  constructor(
    readonly channel: string,
    /** The position the WAL must reach. */
    readonly needed: bigint,
    readonly tail: bigint,
    /** What needs it, e.g. 'its checkpoint' or 'segment 12'. */
    readonly neededBy: string,
  ) {
    super(
      `WAL channel ${channel} ends at position ${tail}, but ${neededBy} needs it to reach position ${needed}: records the catalog counts as applied are missing from the log (a lost or truncated WAL file), and writes appended now would never be applied; restore the data directory from a backup, or drop the collection`,
    );
    this.name = 'WalBehindCheckpointError';
  }
}

/**
 * A channel a collection runtime stopped applying because its WAL turned out damaged while it ran:
 * writes routed to it are refused with this error instead of being acknowledged and never applied,
 * and reads that wait on it fail fast with it.
 */
export class ChannelUnavailableError extends MilvusError {
  constructor(readonly channel: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Unexpected, message);
    this.name = 'ChannelUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
