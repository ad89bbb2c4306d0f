/** Shared helpers of the black-box HTTP tests: a real server over the embedded engine in a temp dir. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startServer, type RunningServer } from '../../lib/api/node-server.ts';
import type { Database } from '../../lib/engine/database.ts';
import { openEmbeddedDatabase } from '../../lib/embedded.ts';

/** A reply: HTTP status, headers, raw text and the parsed JSON body (undefined when not JSON). */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** A running test server with a tiny client. */
export interface TestServer {
  url: string;
  dataDir: string;
  db: Database;
  /** POSTs `body` (object → JSON, string as is) to `/v2/vectordb/<path>`. */
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Any request to an absolute path. */
  request(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

/** Starts `startServer` over `openEmbeddedDatabase` in a fresh temp directory, on a free port. */
export async function startTestServer(options: { token?: string; maxBodyBytes?: number } = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-api-'));
  const db = await openEmbeddedDatabase({ dataDir });
  const server: RunningServer = await startServer({ db, host: '127.0.0.1', port: 0, token: options.token, maxBodyBytes: options.maxBodyBytes });
  const request = async (method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(server.url + p, { method, body, headers });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
  return {
    url: server.url,
    dataDir,
    db,
    request,
    post: (p, body = {}, headers = {}) => request('POST', `/v2/vectordb/${p}`, typeof body === 'string' ? body : JSON.stringify(body), headers),
    async close() {
      await server.close();
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts HTTP 200 + code 0 and returns the body. */
export function ok(reply: Reply): any {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.body?.code, 0, reply.text);
  return reply.body;
}

/** Asserts HTTP 200 + the given Milvus error code (and message pattern); returns the message. */
export function fails(reply: Reply, code: number, message?: RegExp | string): string {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.body?.code, code, reply.text);
  assert.equal(typeof reply.body.message, 'string');
  if (typeof message === 'string') assert.equal(reply.body.message, message);
  else if (message) assert.match(reply.body.message, message);
  return reply.body.message as string;
}

/** A deterministic pseudo-random vector. */
export function vector(dim: number, seed: number): number[] {
  let x = (seed * 2654435761) % 4294967296;
  return Array.from({ length: dim }, () => {
    x = (x * 1664525 + 1013904223) % 4294967296;
    return x / 4294967296 - 0.5;
  });
}

/** Unique collection names per test file run. */
let counter = 0;
export function uniqueName(prefix = 'c'): string {
  counter++;
  return `${prefix}_${process.pid}_${counter}`;
}
