/**
 * The embedded HTTP server: node:http in front of `handleRequest`. Keep-alive on; request bodies are
 * capped (64 MiB by default): a larger body is read to its end and discarded, then answered with a
 * 1102 error, so the client gets a clear reply instead of a reset connection.
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
import { ErrorCode } from './error-codes.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { originOf } from '../config.ts';
import { isAuthorized, isLoopbackHostHeader } from './auth.ts';
import { errorBody, JSON_HEADERS } from './response.ts';
import { REQUEST_ID_HEADER, handleRequest, requestIdOf } from './router.ts';
import type { ApiRequest, ApiResponse } from './types.ts';

/** Default body limit: 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Milvus's "parameter too large". */
const PARAMETER_TOO_LARGE = 1102;
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
  'Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, Accept, Origin, Cache-Control, X-Requested-With, ' +
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

function tooLargeBody(limit: number): string {
  return errorBody(
    PARAMETER_TOO_LARGE,
    `request body is larger than the ${Math.round(limit / 1048576)} MiB limit (${limit} bytes): parameter too large; ` + 'send fewer rows per request',
  );
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
    if (refused) {
      // The body is discarded unread, so a refused upload holds no memory. When it is still coming
      // once the answer is out, we close our side and cut the connection REFUSED_LINGER_MS later:
      // cutting it at once, with unread bytes, sends a reset that can destroy the answer before the
      // client reads it (seen under load: ECONNRESET instead of 401).
      req.on('data', () => {});
      res.writeHead(refused.status, JSON_HEADERS_NO_CORS);
      res.end(refused.body, () => {
        if (req.complete) return;
        req.socket.end();
        setTimeout(() => req.socket.destroy(), REFUSED_LINGER_MS).unref();
      });
      return;
    }
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
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > limit * DRAIN_LIMIT_FACTOR) {
          res.writeHead(200, withCors(JSON_HEADERS, { ...cors, connection: 'close' }));
          res.end(tooLargeBody(limit));
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      if (tooLarge) {
        res.writeHead(200, withCors(JSON_HEADERS, cors));
        res.end(tooLargeBody(limit));
        return;
      }
      const request: ApiRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: flattenHeaders(req.headers), body: Buffer.concat(chunks, size) };
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
    });
    req.on('error', () => res.destroy());
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
