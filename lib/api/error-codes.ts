/**
 * The one table from errors to Milvus's wire codes (pkg/util/merr/errors.go). The engine's errors
 * carry no codes: each engine error class has a stable `kind` (lib/engine/errors.ts), and
 * `ERROR_WIRE` says which `{code, message}` a client sees for it, and whether it is a fault of the
 * server (logged with its stack, answered as 65535 "unexpected error"). The REST layer's own request
 * errors are `MilvusError`s, born here with their code. The router, node-server and the AWS proxy
 * build every error envelope from this module.
 */

/** Milvus error codes used on the wire (pkg/util/merr/errors.go). */
export const ErrorCode = {
  Success: 0,
  DiskLimit: 7,
  QuotaExceeded: 9,
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

/** Milvus's code for "disk quota exceeded" (merr ErrServiceDiskLimitExceeded). */
export const DISK_LIMIT_CODE = ErrorCode.DiskLimit;

/** Milvus's ErrServiceQuotaExceeded ("quota exceeded", code 9). */
export const QUOTA_EXCEEDED_CODE = ErrorCode.QuotaExceeded;

/** A REST-layer request error, born in lib/api with its wire code (a body that does not parse or bind). */
export class MilvusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'MilvusError';
  }
}

/** How one engine error class reaches the wire. */
export interface WireMapping {
  /** The Milvus code. */
  code: number;
  /** The wire message, when it is not the error's own. */
  message?: (err: Error) => string;
  /** A server fault rather than a client's or an operator's: logged with its stack. */
  internal?: true;
}

const unexpected = (err: Error) => `unexpected error: ${err.message}`;
/** A server fault: logged, and answered as 65535 without the stack. */
const INTERNAL: WireMapping = { code: ErrorCode.Unexpected, message: unexpected, internal: true };

/** The wire message of a full disk the engine did not already explain. */
export function diskFullMessage(err: Error): string {
  return `disk limit exceeded: the server's disk is full (${err.message}); free space on the server's data disk, then retry`;
}

/** Every engine error kind (the static `kind` of each class in lib/engine/errors.ts) → how a client sees it. */
export const ERROR_WIRE: Readonly<Record<string, WireMapping>> = {
  CollectionNotFound: { code: ErrorCode.CollectionNotFound },
  CollectionNotLoaded: { code: ErrorCode.CollectionNotLoaded },
  CollectionDamaged: { code: ErrorCode.CollectionNotLoaded },
  PartitionNotFound: { code: ErrorCode.PartitionNotFound },
  IndexNotFound: { code: ErrorCode.IndexNotFound },
  IndexInUse: { code: ErrorCode.Unexpected },
  DatabaseNotFound: { code: ErrorCode.DatabaseNotFound },
  AliasNotFound: { code: ErrorCode.AliasNotFound },
  AliasConflict: { code: ErrorCode.AliasNameConflict },
  AliasExists: { code: ErrorCode.AliasAlreadyExists },
  InvalidParameter: { code: ErrorCode.InvalidParameter },
  RequestFormat: { code: ErrorCode.BadJson },
  MissingParameter: { code: ErrorCode.MissingParameter },
  BadInsertData: { code: ErrorCode.BadInsertData },
  ConsistencyTimeout: { code: ErrorCode.Timeout },
  ChannelStuck: { code: ErrorCode.Unexpected },
  FlushTimeout: { code: ErrorCode.Timeout },
  OperationTimeout: { code: ErrorCode.Timeout },
  MemoryQuota: { code: ErrorCode.QuotaExceeded },
  DiskLimit: { code: ErrorCode.DiskLimit },
  DiskFull: { code: ErrorCode.DiskLimit, message: diskFullMessage },
  ChannelUnavailable: { code: ErrorCode.Unexpected },
  WalRecordMissing: { code: ErrorCode.Unexpected },
  LeaseConflict: { code: ErrorCode.Unexpected },
  NotFound: INTERNAL,
  WalTruncated: INTERNAL,
  Storage: INTERNAL,
  CorruptData: INTERNAL,
  WalCorrupt: INTERNAL,
  WalBehindCheckpoint: INTERNAL,
  DataDirInUse: INTERNAL,
};

/** The envelope fields of an error a client is answered with. */
export interface WireError {
  code: number;
  message: string;
  /** Whether the server should log it (a fault of its own, not the client's). */
  internal: boolean;
}

/**
 * The code and message a client sees for `err`: a MilvusError's own, an engine error's by its kind,
 * a filesystem "no space left" anywhere in its causes as 7, anything else as a logged 65535. Both
 * classes are recognised by shape too, for modules loaded twice, where `instanceof` alone would turn
 * a client error into a 65535.
 */
export function wireError(err: unknown): WireError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; code?: unknown; message?: unknown; kind?: unknown };
  if (typeof e.message === 'string') {
    if (err instanceof MilvusError || (e.name === 'MilvusError' && typeof e.code === 'number')) return { code: e.code as number, message: e.message, internal: false };
    const mapping = typeof e.kind === 'string' && Object.hasOwn(ERROR_WIRE, e.kind) ? ERROR_WIRE[e.kind] : undefined;
    if (mapping && !mapping.internal) return { code: mapping.code, message: mapping.message ? mapping.message(err as Error) : e.message, internal: false };
  }
  if (isDiskFull(err)) return { code: ErrorCode.DiskLimit, message: diskFullMessage(err as Error), internal: false };
  return { code: ErrorCode.Unexpected, message: unexpected(err instanceof Error ? err : new Error(String(err))), internal: true };
}

/** The Milvus code a client sees for `err` (see wireError). */
export function milvusCode(err: unknown): number {
  return wireError(err).code;
}

/** Whether `err` or one of its causes is a filesystem "no space left on device" the engine did not already explain. */
function isDiskFull(err: unknown): boolean {
  for (let e = err, i = 0; typeof e === 'object' && e !== null && i < 8; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { code?: unknown }).code === 'ENOSPC') return true;
  }
  return false;
}
