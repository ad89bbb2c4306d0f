/**
 * The engine's error types: typed classes with fields, and no wire codes. Every adapter translates
 * SDK and filesystem failures into these; the REST layer maps each class, by its stable `kind`, onto
 * Milvus's `{code, message}` envelope in one table (lib/api/error-codes.ts). `kind` rather than
 * `instanceof` alone, so that an error from a module loaded twice (bundlers, mixed CJS/ESM) is still
 * recognised. Callers test errors with `instanceof` or `isEngineError`, never by message text.
 */

/** The base of every engine error: `kind` is its class's stable name (the static `kind` of the class; `name` is `${kind}Error`). */
export abstract class EngineError extends Error {
  /** The stable name of the error's class, which the API maps to a wire code. */
  readonly kind: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = (new.target as unknown as { kind: string }).kind;
    this.name = `${this.kind}Error`; // from the literal kind, so that minified class names do not change it
  }
}

/** Whether `err` is a `type`, also when its module was loaded twice (then matched by `kind`). */
export function isEngineError<T extends EngineError>(err: unknown, type: (abstract new (...args: never[]) => T) & { kind: string }): err is T {
  if (err instanceof type) return true;
  return typeof err === 'object' && err !== null && (err as { kind?: unknown }).kind === type.kind;
}

// ---------------------------------------------------------------- client mistakes: names

/** A collection (or alias) the database does not hold, or one closed or dropped meanwhile. */
export class CollectionNotFoundError extends EngineError {
  static readonly kind: string = 'CollectionNotFound';
  constructor(
    readonly collection: string,
    /** The database looked in, when the message names it. */
    readonly db: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Milvus's describe-path wording of a missing collection. */
export function collectionNotFound(name: string, db = 'default'): CollectionNotFoundError {
  return new CollectionNotFoundError(name, db, `can't find collection[database=${db}][collection=${name}]`);
}

/** A read or write of a collection that is not loaded. */
export class CollectionNotLoadedError extends EngineError {
  static readonly kind: string = 'CollectionNotLoaded';
  constructor(readonly collection: string) {
    super(`collection not loaded[collection=${collection}]; load it first with collections/load`);
  }
}

/** A partition the collection does not have. */
export class PartitionNotFoundError extends EngineError {
  static readonly kind: string = 'PartitionNotFound';
  constructor(
    readonly collection: string,
    readonly partition: string,
  ) {
    super(`partition not found[partition=${partition}]`);
  }
}

/** An index the collection does not have (by name, or none on the vector fields a load needs). */
export class IndexNotFoundError extends EngineError {
  static readonly kind: string = 'IndexNotFound';
  constructor(
    readonly collection: string,
    /** The index asked for, when one was named. */
    readonly indexName: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A drop of an index its loaded collection still serves from. */
export class IndexInUseError extends EngineError {
  static readonly kind: string = 'IndexInUse';
  constructor(
    readonly collection: string,
    readonly indexName: string,
  ) {
    super(`index cannot be dropped, collection is loaded, please release it first`);
  }
}

/** A database other than the one this build serves. */
export class DatabaseNotFoundError extends EngineError {
  static readonly kind: string = 'DatabaseNotFound';
  constructor(readonly db: string) {
    super(`database not found[database=${db}]`);
  }
}

/** An error about one alias: `what` in Milvus's wording, then the database and the alias. */
abstract class AliasError extends EngineError {
  constructor(
    readonly db: string,
    readonly alias: string,
    what: string,
  ) {
    super(`${what}[database=${db}][alias=${alias}]`);
  }
}

/** An alias the database does not hold. */
export class AliasNotFoundError extends AliasError {
  static readonly kind: string = 'AliasNotFound';
  constructor(db: string, alias: string) {
    super(db, alias, 'alias not found');
  }
}

/** An alias whose name is already a collection's. */
export class AliasConflictError extends AliasError {
  static readonly kind: string = 'AliasConflict';
  constructor(db: string, alias: string) {
    super(db, alias, 'alias and collection name conflict');
  }
}

/** An alias that already exists (pointing at another collection). */
export class AliasExistsError extends AliasError {
  static readonly kind: string = 'AliasExists';
  constructor(db: string, alias: string) {
    super(db, alias, 'alias already exists');
  }
}

// ---------------------------------------------------------------- client mistakes: values

/** A parameter with a bad value, or a request the engine refuses as asked (Milvus's 1100 family). */
export class InvalidParameterError extends EngineError {
  static readonly kind: string = 'InvalidParameter';
}

/** Shorthand for the most common client error: `message` with Milvus's ": invalid parameter" suffix. */
export function invalidParameter(message: string): InvalidParameterError {
  return new InvalidParameterError(`${message}: invalid parameter`);
}

/** A request whose shape does not fit the collection (a vector field not named or not found, a vector of the wrong dimension). */
export class RequestFormatError extends EngineError {
  static readonly kind: string = 'RequestFormat';
}

/** A request without a parameter it needs (or naming a field the schema does not define). */
export class MissingParameterError extends EngineError {
  static readonly kind: string = 'MissingParameter';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** Rows of an insert or upsert that do not fit the schema; nothing of the request was written. */
export class BadInsertDataError extends EngineError {
  static readonly kind: string = 'BadInsertData';
  constructor(
    message: string,
    /** The first bad row (0-based) and field, when the error is about one. */
    readonly row?: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- waits that gave up

/** A read whose consistency level needs records a channel has not applied within the wait. */
export class ConsistencyTimeoutError extends EngineError {
  static readonly kind: string = 'ConsistencyTimeout';
  constructor(
    readonly collection: string,
    readonly channel: string,
    readonly waitedMs: number,
    /** The timestamp the read needs, and the one the channel has applied up to. */
    readonly neededTs: bigint,
    readonly appliedTs: bigint,
  ) {
    super(
      `consistency wait timed out after ${waitedMs} ms: channel ${channel} has applied up to ts ${appliedTs} but the read needs ts ${neededTs}; retry, or read with consistencyLevel Bounded or Eventually`,
    );
  }
}

/** A read that waited on a channel whose apply keeps failing (retried in the background); `cause` is the apply error. */
export class ChannelStuckError extends EngineError {
  static readonly kind: string = 'ChannelStuck';
  constructor(
    readonly collection: string,
    readonly channel: string,
    readonly waitedMs: number,
    readonly neededTs: bigint,
    readonly appliedTs: bigint,
    /** The WAL position whose apply fails. */
    readonly position: bigint,
    cause: Error,
  ) {
    super(
      `consistency wait timed out after ${waitedMs} ms: channel ${channel} has applied up to ts ${appliedTs} but the read needs ts ${neededTs} because applying the record at position ${position} keeps failing (${cause.message}); retry, or read with consistencyLevel Bounded or Eventually`,
      { cause },
    );
  }
}

/** A flush whose records a channel's datanode has not made durable in time. */
export class FlushTimeoutError extends EngineError {
  static readonly kind: string = 'FlushTimeout';
  constructor(
    readonly channel: string,
    readonly waitedMs: number,
    readonly ts: bigint,
  ) {
    super(`flush timed out after ${waitedMs} ms: channel ${channel} has not flushed up to ts ${ts}; its datanode may be behind or failing — retry`);
  }
}

/** Background work (a datanode batch settling) that did not finish by its deadline; it is retried. */
export class OperationTimeoutError extends EngineError {
  static readonly kind: string = 'OperationTimeout';
  constructor(readonly operation: string) {
    super(`${operation} did not finish in time; the work is retried`);
  }
}

// ---------------------------------------------------------------- storage

/** A key or object the storage layer does not hold. */
export class NotFoundError extends EngineError {
  static readonly kind: string = 'NotFound';
  constructor(
    readonly key: string,
    what = 'object',
  ) {
    super(`${what} not found: ${key}`);
  }
}

/** A storage operation that failed for a reason other than a missing key (I/O, throttling, network). */
export class StorageError extends EngineError {
  static readonly kind: string = 'Storage';
}

/** A persisted file whose magic number, version or checksum is not what this build reads. */
export class CorruptDataError extends EngineError {
  static readonly kind: string = 'CorruptData';
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
    this.key = details.key;
    this.what = details.what;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

// ---------------------------------------------------------------- growing-data memory budget

/**
 * An insert refused because growing data (with sealed segments not yet flushed and inserts not yet
 * applied) would pass the memory limit; nothing of it was written. Retry once flushes catch up.
 */
export class MemoryQuotaError extends EngineError {
  static readonly kind: string = 'MemoryQuota';
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
    super(`quota exceeded[reason=memory quota exceeded, please allocate more resources]: ${detail}`);
  }
}

// ---------------------------------------------------------------- store: process and DDL safety

/** Another process owns the data directory (its lock file names a live process). */
export class DataDirInUseError extends EngineError {
  static readonly kind: string = 'DataDirInUse';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly hostname: string,
    readonly lockFile: string,
  ) {
    super(`data directory ${dataDir} is in use by pid ${pid} on ${hostname}; stop that process or use another --data-dir (if it is gone and this persists, remove ${lockFile})`);
  }
}

/** A write the disk had no room for (ENOSPC, EDQUOT) and that was undone; `path` is where it failed. */
export class DiskFullError extends StorageError {
  static override readonly kind: string = 'DiskFull';
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`the disk holding ${path} is full and nothing was written; free some space and retry`, options);
  }
}

/**
 * A write whose WAL appends failed on some channels because a disk is full (`cause`, a
 * DiskFullError); when `writtenChannels` > 0, part of it may be stored.
 */
export class DiskLimitError extends EngineError {
  static readonly kind: string = 'DiskLimit';
  constructor(
    readonly channels: number,
    readonly writtenChannels: number | undefined,
    cause: DiskFullError,
  ) {
    super(
      writtenChannels !== undefined
        ? `disk quota exceeded: ${cause.message}; but part of this request may be stored (on ${writtenChannels} of ${channels} channels) — retry the whole request once space is free (rows with the same primary keys overwrite)`
        : `disk quota exceeded: ${cause.message}`,
      { cause },
    );
  }
}

/** A read, write or load of a collection that failed to open; `cause` is what was found (often a CorruptDataError). */
export class CollectionDamagedError extends EngineError {
  static readonly kind: string = 'CollectionDamaged';
  constructor(
    readonly collection: string,
    reason: string,
    override readonly cause: Error,
  ) {
    super(`collection ${collection} is damaged and cannot be served: ${reason}; restore the data directory from a backup, or drop the collection`);
  }
}

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
  static override readonly kind: string = 'WalCorrupt';
  constructor(
    readonly channel: string,
    readonly file: string,
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A channel's WAL ends before a position the catalog relies on (its checkpoint, or the records a
 * segment was built from): those records are missing from the log (a lost or truncated WAL file).
 * Writes appended now would get positions the replay skips, so the collection is refused instead.
 */
export class WalBehindCheckpointError extends CorruptDataError {
  static override readonly kind: string = 'WalBehindCheckpoint';
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
  }
}

/**
 * A channel a collection runtime stopped applying because its WAL turned out damaged while it ran:
 * writes routed to it are refused with this error instead of being acknowledged and never applied,
 * and reads that wait on it fail fast with it.
 */
export class ChannelUnavailableError extends EngineError {
  static readonly kind: string = 'ChannelUnavailable';
  constructor(
    readonly channel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------- typed errors (issue 11)

/**
 * A read of a WAL position that truncate() discarded (a checkpoint passed it): the records are gone
 * for good, so a reader that needed them cannot catch up by retrying.
 */
export class WalTruncatedError extends NotFoundError {
  static override readonly kind: string = 'WalTruncated';
  constructor(
    readonly channel: string,
    /** The position asked for. */
    readonly position: bigint,
    /** Where the channel starts now. */
    readonly first: bigint,
  ) {
    super(`channel ${channel} position ${position} (truncated: the channel now starts at position ${first}; read from there or from a later checkpoint)`, 'WAL record');
  }
}

/** A WAL position below a channel's tail whose record the log does not return (read again later). */
export class WalRecordMissingError extends EngineError {
  static readonly kind: string = 'WalRecordMissing';
  constructor(
    readonly channel: string,
    readonly position: bigint,
  ) {
    super(`channel ${channel} has no record at position ${position} below its tail; retry`);
  }
}

/** A channel another process holds the apply lease of right now; the work is retried. */
export class LeaseConflictError extends EngineError {
  static readonly kind: string = 'LeaseConflict';
  constructor(readonly channel: string) {
    super(`another datanode is applying channel ${channel} right now; the batch is retried`);
  }
}
