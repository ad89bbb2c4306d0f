/**
 * The library API for Node apps, in the style of LanceDB's `connect()`: `connect('./data')` opens
 * the embedded engine in this process (taking the data directory's lock), `connect('http://host:19530',
 * { token })` talks to a running server. Either way the methods take the Milvus REST v2 request
 * shapes, as the Node SDK's `HttpClient` does, and go through the REST router itself, so
 * validation, defaults and answers are exactly the server's. A refused request throws a
 * `MilvusApiError` with Milvus's code; a successful one returns the reply (`{ code: 0, data, … }`).
 */
import { handleRequest } from './api/router.ts';
import { openEmbeddedDatabase } from './embedded.ts';
import type { EngineConfig } from './engine/engine-config.ts';
import type { Logger } from './engine/ports/logger.ts';

/** How to connect. */
export interface ConnectOptions {
  /** The server's token (a URL), sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Engine settings of an embedded database (a path). */
  config?: Partial<EngineConfig>;
  /** Where an embedded database logs its faults (default: the console logger). */
  logger?: Logger;
}

/** A Milvus REST v2 request body: the shapes of `../shared/reference/milvus-rest-v2.md`. */
export type RestBody = Record<string, unknown>;

/** A successful Milvus REST v2 reply. */
export interface RestReply {
  code: 0;
  data?: unknown;
  [key: string]: unknown;
}

/** A request Migrans refused, with the Milvus code and message the REST API answered. */
export class MilvusApiError extends Error {
  override readonly name = 'MilvusApiError';
  constructor(
    /** Milvus's error code (e.g. 100: collection not found, 1100: invalid parameter). */
    readonly code: number,
    message: string,
    /** The route that was called, e.g. `entities/search`. */
    readonly route: string,
  ) {
    super(message);
  }
}

/** A connection: one method per common route, `call` for any other, `close` when done. */
export interface MigransClient {
  createCollection(body: RestBody): Promise<RestReply>;
  describeCollection(body: RestBody): Promise<RestReply>;
  listCollections(body?: RestBody): Promise<RestReply>;
  dropCollection(body: RestBody): Promise<RestReply>;
  createIndex(body: RestBody): Promise<RestReply>;
  insert(body: RestBody): Promise<RestReply>;
  upsert(body: RestBody): Promise<RestReply>;
  delete(body: RestBody): Promise<RestReply>;
  search(body: RestBody): Promise<RestReply>;
  hybridSearch(body: RestBody): Promise<RestReply>;
  query(body: RestBody): Promise<RestReply>;
  get(body: RestBody): Promise<RestReply>;
  flush(body: RestBody): Promise<RestReply>;
  /** Any REST v2 route under `/v2/vectordb/`, e.g. `partitions/create`. */
  call(route: string, body?: RestBody): Promise<RestReply>;
  /** Closes the embedded database (releasing its directory), or does nothing for a server. */
  close(): Promise<void>;
}

/** Connects to a data directory (embedded) or to a server's `http(s)://` URL. */
export async function connect(target: string, options: ConnectOptions = {}): Promise<MigransClient> {
  if (/^https?:\/\//i.test(target)) {
    // Options a server cannot take are refused rather than ignored.
    const local = (['config', 'logger'] as const).filter((k) => options[k] !== undefined);
    if (local.length > 0)
      throw new MilvusApiError(
        1100,
        `connect(${target}): ${local.join(' and ')} set an embedded database's engine; a server has its own (drop them, or pass a data directory)`,
        'connect',
      );
    return client(serverTransport(target, options.token), async () => {});
  }
  if (options.token !== undefined)
    throw new MilvusApiError(1100, `connect(${target}): a token authenticates to a server; an embedded database takes none (drop it, or pass the server's http:// URL)`, 'connect');
  const db = await openEmbeddedDatabase({ dataDir: target, config: options.config, logger: options.logger });
  const transport: Transport = async (route, body) => {
    const res = await handleRequest(db, { method: 'POST', path: `/v2/vectordb/${route}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return typeof res.body === 'string' ? res.body : Buffer.from(res.body).toString('utf8');
  };
  return client(transport, () => db.close());
}

/** Sends one route's body and returns the reply text. */
type Transport = (route: string, body: RestBody) => Promise<string>;

function serverTransport(url: string, token: string | undefined): Transport {
  const base = url.replace(/\/+$/, '');
  return async (route, body) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${base}/v2/vectordb/${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return res.text();
  };
}

function client(transport: Transport, close: () => Promise<void>): MigransClient {
  let closed = false;
  const call = async (route: string, body: RestBody = {}): Promise<RestReply> => {
    if (closed) throw new MilvusApiError(1, `the connection is closed; connect() again to call ${route}`, route);
    const text = await transport(route, body);
    let reply: { code?: unknown; message?: unknown };
    try {
      reply = JSON.parse(text) as typeof reply;
    } catch {
      throw new MilvusApiError(65535, `${route} answered something that is not JSON: ${text.slice(0, 200)}`, route);
    }
    if (reply.code !== 0) throw new MilvusApiError(typeof reply.code === 'number' ? reply.code : 65535, String(reply.message ?? text.slice(0, 200)), route);
    return reply as RestReply;
  };
  const route = (path: string) => (body: RestBody) => call(path, body);
  return {
    createCollection: route('collections/create'),
    describeCollection: route('collections/describe'),
    listCollections: (body = {}) => call('collections/list', body),
    dropCollection: route('collections/drop'),
    createIndex: route('indexes/create'),
    insert: route('entities/insert'),
    upsert: route('entities/upsert'),
    delete: route('entities/delete'),
    search: route('entities/search'),
    hybridSearch: route('entities/hybrid_search'),
    query: route('entities/query'),
    get: route('entities/get'),
    flush: route('collections/flush'),
    call,
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
