/**
 * An HTTP proxy in front of an emulator that can rewrite AWS JSON-protocol calls (DynamoDB, Kinesis),
 * so tests can make a real service answer the way AWS does under load — UnprocessedItems from
 * BatchWriteItem, failed entries in PutRecords, throttling errors — without mocking the SDK: the
 * adapters talk HTTP to the proxy exactly as they would to AWS.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What to do with one call: change the request forwarded, change the response, or answer with an error. */
export interface FaultAction {
  /** The request body to forward instead of the original. */
  request?: unknown;
  /** Rewrites the emulator's JSON answer before the client sees it. */
  response?: (body: unknown) => unknown;
  /** Answer with this error instead of forwarding (e.g. a throttling error). */
  error?: { status: number; type: string; message: string };
}

/** Decides per call; `operation` is the X-Amz-Target header, e.g. `DynamoDB_20120810.BatchWriteItem`. */
export type FaultRule = (operation: string, request: unknown) => FaultAction | undefined;

/** A running proxy. */
export interface FaultProxy {
  /** The endpoint to give the client (http://127.0.0.1:port). */
  url: string;
  /** Calls seen per operation (after the X-Amz-Target's '.'), for assertions. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `target` (an http:// emulator endpoint). */
export async function startFaultProxy(target: string, rule: FaultRule): Promise<FaultProxy> {
  const upstream = new URL(target);
  const calls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '');
      const short = operation.slice(operation.indexOf('.') + 1);
      calls.set(short, (calls.get(short) ?? 0) + 1);
      let body = Buffer.concat(chunks);
      let action: FaultAction | undefined;
      if (operation && body.length > 0) {
        try {
          action = rule(operation, JSON.parse(body.toString('utf8')));
        } catch (err) {
          res.writeHead(500).end(String(err));
          return;
        }
      }
      if (action?.error) {
        const payload = JSON.stringify({ __type: action.error.type, message: action.error.message });
        res.writeHead(action.error.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': action.error.type });
        res.end(payload);
        return;
      }
      if (action?.request !== undefined) body = Buffer.from(JSON.stringify(action.request));
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
      const forward = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          let out = Buffer.concat(parts);
          const outHeaders = { ...up.headers };
          if (action?.response && (up.statusCode ?? 500) < 300) {
            out = Buffer.from(JSON.stringify(action.response(JSON.parse(out.toString('utf8')))));
            delete outHeaders['x-amz-crc32']; // the SDK checks it against the body, which changed
          }
          outHeaders['content-length'] = String(out.length);
          delete outHeaders['transfer-encoding'];
          res.writeHead(up.statusCode ?? 500, outHeaders);
          res.end(out);
        });
      });
      forward.on('error', (err) => res.writeHead(502).end(String(err)));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
