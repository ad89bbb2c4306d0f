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
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDataError';
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
