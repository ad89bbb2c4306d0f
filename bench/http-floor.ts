/**
 * The HTTP floor of this machine: the fastest a serial REST client can go against a node:http
 * server that does no database work. The server parses the same search body the bench sends and
 * answers a fixed 10-hit envelope; the bench's RestClient drives it from another process, one
 * request at a time. No server on node:http can beat this number, so it bounds the
 * `migrans-http` QPS target (see bench/README.md, "Where a target was missed, and why").
 *
 *   node --import tsx bench/http-floor.ts [--requests 10000]
 */
import { fork } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { RestClient, vectorJson } from './systems/http-client.ts';

if (process.argv[2] === '--serve') {
  const answer = JSON.stringify({ code: 0, data: Array.from({ length: 10 }, (_, i) => ({ id: 1000 + i, distance: 0.9 - i * 0.01 })) });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' } } });
  const n = Number(values.requests);
  if (!Number.isInteger(n) || n < 100) throw new RangeError(`--requests must be an integer ≥ 100, got ${JSON.stringify(values.requests)}`);
  const child = fork(import.meta.filename, ['--serve'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const client = new RestClient(`http://127.0.0.1:${port}`);
  const vector = new Float32Array(128).map(() => Math.random() * 2 - 1);
  const body = `{"collectionName":"bench","data":[${vectorJson(vector)}],"limit":10,"annsField":"vector","searchParams":{"params":{"ef":24}}}`;
  for (let i = 0; i < Math.min(2000, n); i++) await client.postText('entities/search', body); // warm-up: JIT and sockets
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await client.postText('entities/search', body);
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(n - 1, Math.floor(q * n))].toFixed(3);
  console.log(`HTTP floor: ${Math.round(n / seconds)} QPS serial (${((seconds / n) * 1e6).toFixed(0)} µs per request), p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
  client.close();
  child.kill();
}
