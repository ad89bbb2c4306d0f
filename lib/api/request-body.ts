/**
 * Request bodies as they come off the wire: the body limit and `Content-Encoding` (identity or gzip),
 * in one place for the embedded server (node-server.ts, which feeds the socket's chunks as they
 * arrive) and the router (router.ts, which decodes the whole body an API Gateway event carries). A
 * gzip body is inflated with node:zlib's streaming Gunzip and the inflated size is counted as it
 * comes out: past the limit the stream is destroyed, so a zip bomb costs at most the limit plus one
 * zlib chunk of memory and gets the same 1102 "body too large" answer as an oversize plain body. A
 * stream that does not inflate is a 1801 (a malformed body); an encoding other than gzip or identity
 * is refused with a 1100 naming what is accepted, rather than parsed as if it were JSON.
 */
import * as zlib from 'node:zlib';
import { ErrorCode, MilvusError } from './error-codes.ts';

/** Default body limit, on the wire and once inflated: 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Milvus's "parameter too large". */
export const PARAMETER_TOO_LARGE = 1102;
/** The content codings Migrans decodes (besides identity). */
export const ACCEPTED_ENCODINGS = ['gzip'] as const;

/** How a request body is encoded. */
export type BodyEncoding = 'identity' | 'gzip';

/** The error of a body larger than `limit` bytes (on the wire or once inflated). */
export function bodyTooLarge(limit: number, inflated = false): MilvusError {
  return new MilvusError(
    PARAMETER_TOO_LARGE,
    `request body is larger than the ${Math.round(limit / 1048576)} MiB limit (${limit} bytes)${inflated ? ' once gunzipped' : ''}: parameter too large; ` +
      'send fewer rows per request',
  );
}

/**
 * The encoding a `Content-Encoding` header names: none, `identity` → identity; `gzip` (or its alias
 * `x-gzip`) → gzip. Anything else (br, deflate, zstd, two codings stacked) throws a 1100 naming what
 * is accepted.
 */
export function bodyEncodingOf(header: string | undefined): BodyEncoding {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  throw new MilvusError(
    ErrorCode.InvalidParameter,
    `Content-Encoding ${JSON.stringify(header)} is not supported: send the body uncompressed, or gzip-compressed with "Content-Encoding: gzip"`,
  );
}

/**
 * Collects one request body, decoding it as it arrives: `write` each chunk as received, then `end`.
 * Bounded by `limit` decoded bytes; once past it, writes are ignored and `end` throws the 1102.
 */
export class BodyDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private over = false;
  private failure?: Error;
  private readonly gunzip?: zlib.Gunzip;
  private readonly settled?: Promise<void>;

  constructor(
    readonly encoding: BodyEncoding,
    readonly limit: number,
    /** Added to a corrupt-stream message (e.g. how API Gateway must be set up). */
    private readonly corruptHint = '',
  ) {
    if (encoding !== 'gzip') return;
    const gunzip = (this.gunzip = zlib.createGunzip());
    gunzip.on('data', (chunk: Buffer) => this.take(chunk));
    gunzip.on('error', (err) => {
      if (!this.over) this.failure = err;
    });
    // 'close' follows the end, an error or our destroy() alike.
    this.settled = new Promise((resolve) => gunzip.once('close', resolve));
  }

  /** Whether the decoded body is past the limit (the caller may stop reading). */
  get overLimit(): boolean {
    return this.over;
  }

  /** Encoded bytes decoded so far (for gzip, the compressed bytes zlib consumed: inflating stops at the limit). */
  get consumedBytes(): number {
    return this.gunzip ? this.gunzip.bytesWritten : this.size;
  }

  /** Feeds the next chunk of the body as received. */
  write(chunk: Buffer): void {
    if (this.over || this.failure) return;
    if (this.gunzip) this.gunzip.write(chunk);
    else this.take(chunk);
  }

  /** The decoded body; throws the 1102 past the limit, or a 1801 when the gzip stream is damaged. */
  async end(): Promise<Buffer> {
    if (this.gunzip) {
      if (!this.gunzip.destroyed) this.gunzip.end();
      await this.settled;
    }
    if (this.over) throw bodyTooLarge(this.limit, this.encoding === 'gzip');
    if (this.failure) {
      throw new MilvusError(
        ErrorCode.BadJson,
        `the request body is not a valid gzip stream (Content-Encoding: gzip): ${this.failure.message}; send the gzip file's bytes unchanged (curl --data-binary @body.json.gz), or drop the header for an uncompressed body${this.corruptHint}`,
      );
    }
    const body = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    return body;
  }

  /** Drops what was collected and stops inflating (the body is refused for another reason). */
  discard(): void {
    this.chunks = [];
    this.gunzip?.destroy();
  }

  private take(chunk: Buffer): void {
    if (this.over) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      // Stop inflating now: the rest of a bomb is never expanded.
      this.over = true;
      this.chunks = [];
      this.gunzip?.destroy();
      return;
    }
    this.chunks.push(chunk);
  }
}

/**
 * A whole body (an API Gateway event's) decoded per its `Content-Encoding` header and bounded by
 * `limit` (see BodyDecoder). Identity bodies are returned as given: whoever received them bounded them
 * already (node-server.ts; API Gateway's own payload limit).
 */
export async function decodeBody(body: string | Buffer, contentEncoding: string | undefined, limit = DEFAULT_MAX_BODY_BYTES): Promise<string | Buffer> {
  const encoding = bodyEncodingOf(contentEncoding);
  if (encoding === 'identity') return body;
  if ((typeof body === 'string' ? Buffer.byteLength(body) : body.length) > limit) throw bodyTooLarge(limit);
  // Compressed bytes that reach us as text were decoded as text on the way (API Gateway does that to
  // a body whose Content-Type is not one of its binaryMediaTypes): say so if they do not inflate.
  const hint = typeof body === 'string' ? "; the compressed body arrived as text: behind API Gateway, the REST API's binaryMediaTypes must cover the request's Content-Type" : '';
  const decoder = new BodyDecoder(encoding, limit, hint);
  decoder.write(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return decoder.end();
}
