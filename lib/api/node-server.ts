/**
 * The embedded HTTP server: node:http in front of `handleRequest`. Keep-alive on; request bodies are
 * capped (64 MiB by default): a larger body is read to its end and discarded, then answered with a
 * 1102 error, so the client gets a clear reply instead of a reset connection.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../engine/database.ts';
import { errorBody, JSON_HEADERS } from './response.ts';
import { handleRequest } from './router.ts';
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
  handle?: (req: ApiRequest) => Promise<ApiResponse>;
  host: string;
  /** 0 picks a free port. */
  port: number;
  token?: string;
  maxBodyBytes?: number;
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

function tooLargeBody(limit: number): string {
  return errorBody(
    PARAMETER_TOO_LARGE,
    `request body is larger than the ${Math.round(limit / 1048576)} MiB limit (${limit} bytes): parameter too large; ` +
      'send fewer rows per request',
  );
}

/** Starts the REST server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > limit * DRAIN_LIMIT_FACTOR) {
          res.writeHead(200, { ...JSON_HEADERS, connection: 'close' });
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
        res.writeHead(200, JSON_HEADERS);
        res.end(tooLargeBody(limit));
        return;
      }
      const request: ApiRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: flattenHeaders(req.headers), body: Buffer.concat(chunks, size) };
      (options.handle ? options.handle(request) : handleRequest(options.db, request, { token: options.token })).then(
        (reply) => {
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        },
        (err: unknown) => {
          console.error('migrans: request failed:', err);
          if (!res.headersSent) res.writeHead(500, JSON_HEADERS);
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
