/**
 * ObjectStore on S3 (or any S3-compatible server): one bucket, all keys under an optional key prefix.
 * PUT is atomic in S3 (readers see the old or the new object), so `put` needs no temp-and-rename.
 * Unlike the file store, S3 lets `a` and `a/b` coexist; nothing here forbids it.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { NotFoundError, StorageError } from '../../engine/errors.ts';
import type { ObjectStore } from '../../engine/ports/object-store.ts';
import { checkBytes, checkObjectDeletePrefix, checkObjectKey, checkObjectPrefix, checkRange, compareUtf8, describe } from '../key-rules.ts';
import { awsErrorName, httpStatus, withRetries } from './aws-errors.ts';
import { hookAwsClient } from './client-hook.ts';

/** DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1000;

/** Options of an S3ObjectStore. */
export interface S3ObjectStoreOptions {
  bucket: string;
  /** Prepended to every key ('' or a '/'-terminated path such as 'migrans/prod/'; a missing '/' is added). */
  prefix?: string;
  /** A configured client; by default one from the environment (AWS_ENDPOINT_URL_S3, AWS_REGION, credentials). */
  client?: S3Client;
}

/** An ObjectStore over one S3 bucket and key prefix. */
export class S3ObjectStore implements ObjectStore {
  /** The bucket holding the objects. */
  readonly bucket: string;
  /** The key prefix inside the bucket ('' or ending in '/'). */
  readonly prefix: string;
  private readonly client: S3Client;

  constructor(options: S3ObjectStoreOptions) {
    if (typeof options?.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new RangeError(`S3 bucket name must be 3-63 lowercase letters, digits, '.' or '-', got ${describe(options?.bucket)}`);
    }
    const prefix = options.prefix ?? '';
    if (prefix !== '') checkObjectKey(prefix.replace(/\/$/, ''));
    this.bucket = options.bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.client = options.client ?? defaultS3Client();
  }

  /** A store for `s3://bucket/optional/prefix` (the object-store URL form of the configuration). */
  static fromUrl(url: string, client?: S3Client): S3ObjectStore {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
    if (!m) throw new RangeError(`S3 object store URL must look like s3://bucket/prefix, got ${describe(url)}`);
    return new S3ObjectStore({ bucket: m[1], prefix: m[2], client });
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    checkObjectKey(key);
    checkBytes(data, `data for object ${JSON.stringify(key)}`);
    await withRetries(this.op('PutObject', key), () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: data, ContentLength: data.byteLength })),
    );
  }

  async get(key: string): Promise<Uint8Array> {
    checkObjectKey(key);
    return withRetries(
      this.op('GetObject', key),
      async () => {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        return bodyBytes(res);
      },
      { passThrough: isMissing },
    ).catch((err) => this.rethrowMissing(err, key));
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    checkObjectKey(key);
    checkRange(key, offset, length);
    // A zero-length Range header is not expressible (bytes=a-b is inclusive): only existence matters.
    if (length === 0) {
      if (!(await this.exists(key))) throw new NotFoundError(key);
      return new Uint8Array(0);
    }
    return withRetries(
      this.op('GetObject (range)', key),
      async () => {
        try {
          const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: `bytes=${offset}-${offset + length - 1}` }));
          const bytes = await bodyBytes(res);
          // A server that ignores Range answers 200 with the whole object: cut the slice ourselves.
          return res.ContentRange ? bytes.subarray(0, length) : bytes.slice(offset, offset + length);
        } catch (err) {
          // 416: the object exists but the range starts at or past its end (an empty object included).
          if (awsErrorName(err) === 'InvalidRange' || httpStatus(err) === 416) return new Uint8Array(0);
          throw err;
        }
      },
      { passThrough: isMissing },
    ).catch((err) => this.rethrowMissing(err, key));
  }

  async exists(key: string): Promise<boolean> {
    checkObjectKey(key);
    try {
      await withRetries(this.op('HeadObject', key), () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })), {
        passThrough: isMissing,
      });
      return true;
    } catch (err) {
      if (isMissingKey(err)) return false;
      throw this.missingBucket(err) ?? err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectPrefix(prefix);
    const keys = await this.listFull(prefix);
    const strip = this.prefix.length;
    // S3 lists in UTF-8 byte order already; sorting again covers S3-compatible servers that do not.
    return keys.map((k) => k.slice(strip)).sort(compareUtf8);
  }

  async delete(key: string): Promise<void> {
    checkObjectKey(key);
    // DeleteObject of a missing key succeeds in S3 (204), as the port wants.
    await withRetries(this.op('DeleteObject', key), () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })));
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkObjectDeletePrefix(prefix);
    const keys = await this.listFull(prefix);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await withRetries(this.op('DeleteObjects', `${prefix}* (${batch.length} keys from ${batch[0]})`), () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      // DeleteObjects answers 200 even when some keys failed; each failure is listed in Errors.
      const errors = res.Errors ?? [];
      if (errors.length > 0) {
        const shown = errors.slice(0, 5).map((e) => `${e.Key}: ${e.Code} ${e.Message ?? ''}`.trim());
        throw this.storageFailure(
          `DeleteObjects under s3://${this.bucket}/${this.prefix}${prefix} could not delete ${errors.length} of ${batch.length} objects (${shown.join('; ')}${errors.length > 5 ? '; …' : ''}); retry deletePrefix`,
        );
      }
    }
    return keys.length;
  }

  /** Every full S3 key (store prefix included) under `prefix`, following continuation tokens. */
  private async listFull(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await withRetries(this.op('ListObjectsV2', `${prefix}*`), () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token })),
      ).catch((err) => {
        throw this.missingBucket(err.cause) ?? err;
      });
      for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** "S3 <call> of s3://bucket/prefix/key", the operation part of error messages. */
  private op(call: string, key: string): string {
    return `S3 ${call} of s3://${this.bucket}/${this.prefix}${key}`;
  }

  /** Turns a missing key into NotFoundError and a missing bucket into a clear StorageError. */
  private rethrowMissing(err: unknown, key: string): never {
    if (isMissingKey(err)) throw new NotFoundError(key);
    throw this.missingBucket(err) ?? err;
  }

  /** A StorageError explaining a missing bucket, or undefined when `err` is something else. */
  private missingBucket(err: unknown): Error | undefined {
    if (awsErrorName(err) !== 'NoSuchBucket') return undefined;
    return this.storageFailure(`S3 bucket ${this.bucket} does not exist (or this account cannot see it); create it or fix the object store URL`, err);
  }

  /** A StorageError with `message`. */
  private storageFailure(message: string, cause?: unknown): StorageError {
    return new StorageError(message, { cause });
  }
}

/** Whether an SDK error says the key (not the bucket) is absent: NoSuchKey from GET, a bare 404 NotFound from HEAD. */
function isMissingKey(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatus(err) === 404 && name !== 'NoSuchBucket');
}

/** Missing key or bucket: not worth retrying, interpreted by the caller. */
function isMissing(err: unknown): boolean {
  return isMissingKey(err) || awsErrorName(err) === 'NoSuchBucket';
}

/** The whole response body as bytes (the SDK's own buffer: nobody else holds it, so no copy is needed). */
async function bodyBytes(res: GetObjectCommandOutput): Promise<Uint8Array> {
  if (!res.Body) return new Uint8Array(0);
  return res.Body.transformToByteArray();
}

/**
 * The client used when none is given: region, credentials and endpoint from the environment. A custom
 * endpoint (AWS_ENDPOINT_URL_S3, e.g. MinIO or s3rver) gets path-style addressing, which S3-compatible
 * servers need; real S3 keeps virtual-hosted style.
 */
export function defaultS3Client(): S3Client {
  const custom = Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  return hookAwsClient(new S3Client({ forcePathStyle: custom }));
}
