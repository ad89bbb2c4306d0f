/**
 * Who the embedded server answers, from a browser's point of view: without a token only requests
 * addressed to a loopback name (DNS rebinding is refused), no permissive CORS headers, and requests
 * from web pages whose origin is not configured with --cors-origins are refused — even the "simple"
 * text/plain POST a page can send without a preflight — and change nothing. Also the validation of
 * --cors-origins / MIGRANS_CORS_ORIGINS.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../lib/api/node-server.ts';
import { ConfigError, resolveServeConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/engine/database.ts';
import { openEmbeddedDatabase } from '../../lib/embedded.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A server over a fresh embedded database, and a client that may set Host and Origin (fetch may not). */
async function start(options: { token?: string; corsOrigins?: string[] } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-sec-'));
  const db: Database = await openEmbeddedDatabase({ dataDir });
  const server: RunningServer = await startServer({ db, host: '127.0.0.1', port: 0, ...options });
  const send = (method: string, route: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = http.request(`${server.url}/v2/vectordb/${route}`, { method, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    port: server.port,
    post: (route: string, body: unknown, headers: Record<string, string> = {}) => send('POST', route, JSON.stringify(body), headers),
    preflight: (origin: string) =>
      send('OPTIONS', 'collections/drop', undefined, { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' }),
    async close() {
      await server.close();
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Server = Awaited<ReturnType<typeof start>>;

async function collections(s: Server, headers: Record<string, string> = {}): Promise<string[]> {
  const r = await s.post('collections/list', {}, headers);
  assert.equal(r.body?.code, 0, JSON.stringify(r.body));
  return r.body.data as string[];
}

describe('HTTP security without a token', () => {
  let s: Server;
  before(async () => {
    s = await start();
    assert.equal((await s.post('collections/create', { collectionName: 'kept', dimension: 4 })).body.code, 0);
  });
  after(async () => s.close());

  it('refuses a request addressed to another host name (DNS rebinding) with 403 and drops nothing', async () => {
    for (const host of [`evil.example:${s.port}`, 'evil.example', `127.0.0.1.evil.example:${s.port}`, `localhost.evil.example:${s.port}`, `[::2]:${s.port}`]) {
      const r = await s.post('collections/drop', { collectionName: 'kept' }, { host });
      assert.equal(r.status, 403, host);
      assert.equal(r.body.code, 1800);
      assert.match(r.body.message, new RegExp(`host "${host.replace(/[.[\]]/g, '\\$&')}" refused: without a token .*--token`));
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    }
    assert.deepEqual(await collections(s), ['kept']);
  });

  it('accepts loopback Host headers', async () => {
    for (const host of [`127.0.0.1:${s.port}`, '127.0.0.1', `localhost:${s.port}`, 'LOCALHOST', `[::1]:${s.port}`, '[::1]']) {
      assert.deepEqual(await collections(s, { host }), ['kept'], host);
    }
  });

  it('refuses a cross-origin text/plain POST (no preflight) from a web page and keeps the collection', async () => {
    const r = await s.post('collections/drop', { collectionName: 'kept' }, { origin: 'http://evil.example', 'content-type': 'text/plain;charset=UTF-8' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 1800);
    assert.match(r.body.message, /origin "http:\/\/evil\.example" refused: .*--cors-origins/);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    // Also a page on this machine, or a sandboxed one (Origin: null).
    for (const origin of [`http://127.0.0.1:${s.port}`, 'null']) assert.equal((await s.post('collections/drop', { collectionName: 'kept' }, { origin })).status, 403, origin);
    assert.deepEqual(await collections(s), ['kept']);
  });

  it('sends no CORS headers and refuses preflights from web pages', async () => {
    const plain = await s.post('collections/list', {});
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
    assert.equal(plain.headers['access-control-allow-credentials'], undefined);
    const r = await s.preflight('http://evil.example');
    assert.equal(r.status, 403);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.headers['access-control-allow-methods'], undefined);
  });
});

describe('HTTP security with --cors-origins', () => {
  let s: Server;
  before(async () => {
    s = await start({ corsOrigins: resolveServeConfig({ corsOrigins: 'http://LOCALHOST:3000, https://app.example.com:443' }, {}).corsOrigins });
    assert.equal((await s.post('collections/create', { collectionName: 'kept', dimension: 4 })).body.code, 0);
  });
  after(async () => s.close());

  it('answers the preflight of an allowed origin, then serves its requests with CORS headers naming it', async () => {
    for (const origin of ['http://localhost:3000', 'https://app.example.com']) {
      const pre = await s.preflight(origin);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], origin);
      assert.match(String(pre.headers['access-control-allow-methods']), /\bPOST\b/);
      assert.match(String(pre.headers['access-control-allow-headers']), /Content-Type.*Authorization/);
      assert.match(String(pre.headers.vary), /Origin/);
      const r = await s.post('collections/list', {}, { origin, 'content-type': 'application/json' });
      assert.deepEqual(r.body, { code: 0, data: ['kept'] });
      assert.equal(r.headers['access-control-allow-origin'], origin);
    }
  });

  it('still refuses other origins and changes nothing', async () => {
    for (const origin of ['http://localhost:3001', 'http://app.example.com', 'https://evil.example']) {
      assert.equal((await s.preflight(origin)).status, 403, origin);
      assert.equal((await s.post('collections/drop', { collectionName: 'kept' }, { origin, 'content-type': 'text/plain' })).status, 403, origin);
    }
    assert.deepEqual(await collections(s), ['kept']);
  });
});

describe('HTTP security with a token', () => {
  let s: Server;
  before(async () => {
    s = await start({ token: 't0ken' });
  });
  after(async () => s.close());

  it('serves any Host name to a request carrying the token, and 401s one without it', async () => {
    const host = `migrans.internal:${s.port}`;
    assert.deepEqual(await collections(s, { host, authorization: 'Bearer t0ken' }), []);
    const r = await s.post('collections/list', {}, { host });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { code: 1800, message: "user hasn't authenticated" });
  });

  it('refuses a web page origin that is not configured, even with the token', async () => {
    const r = await s.post('collections/list', {}, { origin: 'http://evil.example', authorization: 'Bearer t0ken' });
    assert.equal(r.status, 403);
  });
});

describe('--cors-origins / MIGRANS_CORS_ORIGINS', () => {
  it('normalizes the origins as browsers send them; empty means none', () => {
    assert.deepEqual(resolveServeConfig({}, { MIGRANS_CORS_ORIGINS: 'http://Localhost:3000,https://a.example:443/ , http://localhost:3000' }).corsOrigins, [
      'http://localhost:3000',
      'https://a.example',
    ]);
    assert.deepEqual(resolveServeConfig({ corsOrigins: 'http://b.example' }, { MIGRANS_CORS_ORIGINS: 'http://a.example' }).corsOrigins, ['http://b.example'], 'the flag wins');
    assert.equal(resolveServeConfig({}, { MIGRANS_CORS_ORIGINS: '' }).corsOrigins, undefined);
    assert.equal(resolveServeConfig({ corsOrigins: ' , ' }, {}).corsOrigins, undefined);
  });

  it('rejects what is not an http(s) origin, naming the value', () => {
    for (const bad of ['*', 'localhost:3000', 'http://a.example/app', 'http://a.example?x=1', 'ftp://a.example', 'http://user@a.example', 'null']) {
      assert.throws(
        () => resolveServeConfig({ corsOrigins: `http://ok.example,${bad}` }, {}),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith(`invalid CORS origin ${JSON.stringify(bad)} (--cors-origins or MIGRANS_CORS_ORIGINS)`),
        bad,
      );
    }
  });
});
