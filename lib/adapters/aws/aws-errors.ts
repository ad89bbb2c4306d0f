/**
 * How the AWS adapters classify SDK failures and retry the transient ones, so every adapter maps
 * throttling and service errors the same way (into retries, then StorageError).
 */
import { StorageError } from '../../engine/errors.ts';

/** Error names AWS uses for "slow down": retried with backoff rather than reported. */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'LimitExceededException', // Kinesis GetRecords/GetShardIterator rate limits
  'SlowDown', // S3
  'RequestThrottled',
  'TooManyRequestsException',
]);

/** Error names of transient server-side or connection failures worth another attempt. */
const TRANSIENT = new Set(['InternalServerError', 'InternalFailure', 'ServiceUnavailable', 'InternalError', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** The error's AWS name (`err.name`, or its `code` for Node socket errors). */
export function awsErrorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; code?: unknown };
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.code === 'string') return e.code;
    if (typeof e.name === 'string') return e.name;
  }
  return 'UnknownError';
}

/** The HTTP status of an SDK error, when it has one. */
export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Whether the failure is AWS asking us to slow down. */
export function isThrottling(err: unknown): boolean {
  return THROTTLING.has(awsErrorName(err)) || httpStatus(err) === 429;
}

/** Whether another attempt of the same request may succeed (throttling, 5xx, dropped connection). */
export function isRetryable(err: unknown): boolean {
  if (isThrottling(err) || TRANSIENT.has(awsErrorName(err))) return true;
  const status = httpStatus(err);
  return status !== undefined && status >= 500;
}

/** One line describing an SDK failure: its name, message and HTTP status. */
export function describeAwsError(err: unknown): string {
  const status = httpStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  return `${awsErrorName(err)}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

/** A StorageError for a failed `operation` (which names the service call and key), keeping the SDK error as cause. */
export function storageError(operation: string, err: unknown, hint = ''): StorageError {
  return new StorageError(`${operation} failed: ${describeAwsError(err)}${hint ? `; ${hint}` : ''}`, { cause: err });
}

/** How retries back off. */
export interface BackoffOptions {
  /** Attempts in all, the first included (default 10). */
  attempts?: number;
  /** First delay in ms (default 25); each later one doubles, up to maxDelayMs, with full jitter. */
  baseDelayMs?: number;
  /** Longest single delay (default 2 s). */
  maxDelayMs?: number;
}

/** Default backoff for AWS adapters: 10 attempts spread over roughly 10 s at worst. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { attempts: 10, baseDelayMs: 25, maxDelayMs: 2000 };

/** Waits before attempt number `attempt` (1 = the first retry): exponential with full jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): Promise<void> {
  const base = options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs;
  const max = options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt - 1, 20));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/**
 * Runs `call`, retrying retryable failures (throttling, 5xx, dropped connections) with backoff; any
 * other failure, or the last one, becomes a StorageError naming `operation` (or is rethrown as is when
 * `passThrough` says so, for failures the caller interprets, such as a failed condition).
 */
export async function withRetries<T>(
  operation: string,
  call: () => Promise<T>,
  options: BackoffOptions & { passThrough?: (err: unknown) => boolean; hint?: (err: unknown) => string } = {},
): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_BACKOFF.attempts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (options.passThrough?.(err)) throw err;
      if (!isRetryable(err) || attempt >= attempts) {
        const suffix = isRetryable(err) ? `gave up after ${attempt} attempts` : '';
        throw storageError(operation, err, [suffix, options.hint?.(err) ?? ''].filter(Boolean).join('; '));
      }
      await backoffDelay(attempt, options);
    }
  }
}
