/**
 * The embedded HTTP server: node:http in front of `handleRequest`. Keep-alive on; request bodies are
 * capped (64 MiB by default): a larger body is read to its end and discarded, then answered with a
 * 1102 error, so the client gets a clear reply instead of a reset connection. A `Content-Encoding:
 * gzip` body is inflated as it arrives (request-body.ts), under the same cap once inflated: a zip
 * bomb is inflated only up to the cap, then drained like any oversize body and answered with the
 * same 1102; a damaged stream is a 1801, any other encoding a 1100 answered at once, body unread.
 *
 * Who may send a request is decided from its headers, before any of its body is read; a refused
 * request is answered at once and its body discarded unread (so unauthenticated uploads hold no
 * memory): with a token, `Authorization` must carry it (401, code 1800); without one, the `Host` must
 * be a loopback name (403: DNS rebinding). A request from a web page (`Origin` header)
 * whose origin is not in `corsOrigins` is refused (403) — also a "simple" cross-origin POST, which a
 * browser sends without a preflight. CORS headers name the allowed origin itself, never `*`; the
 * router's own Milvus-style `*` headers (kept for the API Lambda, which always has a token) are
 * replaced. Each request gets a logger bound to its id (router.ts requestIdOf).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../engine/database.ts';
import { ErrorCode, wireError } from './error-codes.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { originOf } from '../config.ts';
import { isAuthorized, isLoopbackHostHeader } from './auth.ts';
import { BodyDecoder, DEFAULT_MAX_BODY_BYTES, bodyEncodingOf, bodyTooLarge } from './request-body.ts';
import { errorBody, JSON_HEADERS } from './response.ts';
import { REQUEST_ID_HEADER, handleRequest, requestIdOf } from './router.ts';
import type { ApiRequest, ApiResponse } from './types.ts';

/** Default body limit (on the wire and once gunzipped): 64 MiB. */
export { DEFAULT_MAX_BODY_BYTES };
/** Past this many bytes of an oversize body we stop draining and close the connection. */
const DRAIN_LIMIT_FACTOR = 4;

/** Server options. */
export interface ServerOptions {
  db: Database;
  /** Answers requests instead of the router over `db` (the AWS proxy, which forwards reads). */
  handle?: (req: ApiRequest, logger: Logger) => Promise<ApiResponse>;
  host: string;
  /** 0 picks a free port. */
  port: number;
  token?: string;
  /** Largest request body in bytes, on the wire and once gunzipped (default 64 MiB). */
  maxBodyBytes?: number;
  /** Origins (`scheme://host[:port]`) of web pages allowed to call the API; none by default. */
  corsOrigins?: readonly string[];
  /** Where failures are logged (default: nowhere). */
  logger?: Logger;
  /** GET paths answered without a token (health checks, which reveal no data). */
  publicPaths?: ReadonlySet<string>;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:19530`. */
  url: string;
  port: number;
  /** Stops accepting connections and closes idle ones; resolves when the server is closed. */
  close(): Promise<void>;
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Request headers a browser client may send (Milvus's list plus the headers the router reads). */
const CORS_ALLOW_HEADERS =
  'Content-Type, Content-Length, Content-Encoding, Accept-Encoding, X-CSRF-Token, Authorization, Accept, Origin, Cache-Control, X-Requested-With, ' +
  'DB-Name, Accept-Type-Allow-Int64, Request-Timeout';
const JSON_HEADERS_NO_CORS = withCors(JSON_HEADERS, {});
/** How long a refused request's unread body is discarded after the answer before its connection is cut. */
const REFUSED_LINGER_MS = 2_000;
const UNAUTHENTICATED = errorBody(ErrorCode.NotAuthenticated, "user hasn't authenticated");

/** A request refused from its headers alone. */
interface Refusal {
  status: number;
  body: string;
}

/** `headers` without the router's CORS headers, plus `cors`. */
function withCors(headers: Readonly<Record<string, string>>, cors: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!k.toLowerCase().startsWith('access-control-')) out[k] = v;
  return { ...out, ...cors };
}

/** The 1102 envelope of a body past `limit` (`inflated`: only once gunzipped). */
function tooLargeBody(limit: number, inflated = false): string {
  const err = bodyTooLarge(limit, inflated);
  return errorBody(err.code, err.message);
}

/** The envelope of a request error (a MilvusError's code and message). */
function errorEnvelope(err: unknown): string {
  const wire = wireError(err);
  return errorBody(wire.code, wire.message);
}

/**
 * Answers a request refused before its body is read. The body is discarded unread, so a refused
 * upload holds no memory. When it is still coming once the answer is out, we close our side and cut
 * the connection REFUSED_LINGER_MS later: cutting it at once, with unread bytes, sends a reset that
 * can destroy the answer before the client reads it (seen under load: ECONNRESET instead of 401).
 */
function answerUnread(req: http.IncomingMessage, res: http.ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  req.on('data', () => {});
  res.writeHead(status, headers);
  res.end(body, () => {
    if (req.complete) return;
    req.socket.end();
    setTimeout(() => req.socket.destroy(), REFUSED_LINGER_MS).unref();
  });
}

/** Starts the REST server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowedOrigins = new Set<string>();
  for (const text of options.corsOrigins ?? []) {
    const origin = originOf(text);
    if (origin === undefined) throw new TypeError(`invalid CORS origin ${JSON.stringify(text)}: use scheme://host[:port], e.g. http://localhost:3000`);
    allowedOrigins.add(origin);
  }
  /** Why a request is refused before its body is read, or undefined. */
  const refusal = (req: http.IncomingMessage): Refusal | undefined => {
    const host = req.headers.host;
    // No Host at all is HTTP/1.0, never a browser.
    if (options.token === undefined && host !== undefined && !isLoopbackHostHeader(host)) {
      const message =
        `request addressed to host ${JSON.stringify(host)} refused: without a token this server answers only requests to ` +
        '127.0.0.1, localhost or [::1] (another name may be a web page rebinding its DNS to this machine). ' +
        'Connect through a loopback address, or start the server with --token <secret> (MIGRANS_TOKEN)';
      return { status: 403, body: errorBody(ErrorCode.NotAuthenticated, message) };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(originOf(origin) ?? '')) {
      const message =
        `request from the web page origin ${JSON.stringify(origin)} refused: it is not an allowed CORS origin. ` +
        'To use a browser client there, start the server with --cors-origins <origin,...> (MIGRANS_CORS_ORIGINS)';
      return { status: 403, body: errorBody(ErrorCode.NotAuthenticated, message) };
    }
    const isPublic = req.method === 'GET' && options.publicPaths?.has((req.url ?? '').split('?')[0]) === true;
    if (req.method !== 'OPTIONS' && !isPublic && options.token !== undefined && !isAuthorized(req.headers.authorization, options.token)) {
      return { status: 401, body: UNAUTHENTICATED };
    }
    return undefined;
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const refused = refusal(req);
    if (refused) return answerUnread(req, res, refused.status, JSON_HEADERS_NO_CORS, refused.body);
    // Past refusal, an Origin header is an allowed one.
    const cors: Record<string, string> = allowedOrigins.size > 0 ? { vary: 'Origin' } : {};
    if (req.headers.origin !== undefined) cors['access-control-allow-origin'] = req.headers.origin;
    if (req.method === 'OPTIONS') {
      const preflight =
        req.headers.origin === undefined
          ? {}
          : { 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': CORS_ALLOW_HEADERS, 'access-control-max-age': '600' };
      res.writeHead(204, { ...cors, ...preflight });
      res.end();
      req.resume();
      return;
    }
    let decoder: BodyDecoder;
    try {
      decoder = new BodyDecoder(bodyEncodingOf(req.headers['content-encoding']), limit);
    } catch (err) {
      // An encoding we cannot decode: nothing of the body is worth reading.
      return answerUnread(req, res, 200, withCors(JSON_HEADERS, cors), errorEnvelope(err));
    }
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) {
        decoder.write(chunk);
        if (decoder.overLimit) tooLarge = true; // a gzip body that inflates past the limit: drained like an oversize one
      }
      if (tooLarge) {
        decoder.discard();
        if (size > limit * DRAIN_LIMIT_FACTOR) {
          res.writeHead(200, withCors(JSON_HEADERS, { ...cors, connection: 'close' }));
          res.end(tooLargeBody(limit, decoder.overLimit));
          req.destroy();
        }
      }
    });
    const answer = async () => {
      if (res.headersSent) return;
      if (tooLarge) {
        decoder.discard();
        res.writeHead(200, withCors(JSON_HEADERS, cors));
        res.end(tooLargeBody(limit, decoder.overLimit));
        return;
      }
      let body: Buffer;
      try {
        body = await decoder.end();
      } catch (err) {
        res.writeHead(200, withCors(JSON_HEADERS, cors));
        res.end(errorEnvelope(err));
        return;
      }
      const headers = flattenHeaders(req.headers);
      delete headers['content-encoding']; // decoded: the router must not decode it again
      const request: ApiRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body };
      // The id goes on in the headers too: a proxy's handler passes it to the querynodes.
      const requestId = (request.headers[REQUEST_ID_HEADER] = requestIdOf(request.headers));
      const logger = (options.logger ?? NOOP_LOGGER).child({ requestId });
      (options.handle ? options.handle(request, logger) : handleRequest(options.db, request, { token: options.token, logger })).then(
        (reply) => {
          res.writeHead(reply.status, withCors(reply.headers, cors));
          res.end(reply.body);
        },
        (error: unknown) => {
          logger.error('request failed', { path: request.path, error });
          if (!res.headersSent) res.writeHead(500, withCors(JSON_HEADERS, cors));
          res.end('{"code":500}');
        },
      );
    };
    req.on('end', () => void answer());
    req.on('error', () => {
      decoder.discard();
      res.destroy();
    });
  });
  // Clients (the SDK, load balancers) reuse connections: keep them longer than Node's 5 s default.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then connections are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}
