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
 * A channel a collection runtime cannot apply (its WAL is damaged, or its checkpoint lies beyond
 * the WAL's tail): writes routed to it are refused with this error instead of being acknowledged
 * and never applied, and reads that wait on it fail fast with it.
 */
export class ChannelUnavailableError extends MilvusError {
  constructor(readonly channel: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Unexpected, message);
    this.name = 'ChannelUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
