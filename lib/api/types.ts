/** The framework-free request/response shapes of the REST router, shared by the Node server and the Lambda. */
import type { Database } from '../engine/database.ts';
import type { Logger } from '../engine/ports/logger.ts';
import type { JsonObject, StructReader } from './bind.ts';

/** An HTTP request as the router sees it (header names in any case). */
export interface ApiRequest {
  method: string;
  /** Path, optionally with a query string (ignored). */
  path: string;
  headers: Record<string, string | undefined>;
  /** As received: still compressed when a `Content-Encoding` header says so (the router decodes it after auth). */
  body: string | Buffer;
}

/** An HTTP response the adapter writes back verbatim. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The error the request was refused with, for callers that react to it (never sent). */
  error?: Error;
}

/** Router options. */
export interface ApiOptions {
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Where unexpected errors are logged (with the request's id bound; default: nowhere). */
  logger?: Logger;
  /** Largest body once gunzipped (`Content-Encoding: gzip`; default request-body.ts DEFAULT_MAX_BODY_BYTES). */
  maxBodyBytes?: number;
}

/** What a route handler gets: the engine, the resolved database, and the bound body. */
export interface HandlerContext {
  db: Database;
  /** `dbName` from the body, else the `DB-Name` header, else `default`. */
  dbName: string;
  /** The body bound as the route's Go request struct (case-insensitive keys). */
  req: StructReader;
  /** The raw body, for the members Milvus reads case-sensitively (`data`, `id`). */
  body: JsonObject;
  /** `Accept-Type-Allow-Int64: false`: Int64 values go out as decimal strings. */
  int64AsString: boolean;
}

/** A route: the Go struct name used in binding messages and the handler returning the JSON body. */
export interface Route {
  structName: string;
  handle(ctx: HandlerContext): Promise<string>;
}

/** Routes by path relative to `/v2/vectordb/` (e.g. `collections/create`). */
export type RouteTable = Record<string, Route>;
