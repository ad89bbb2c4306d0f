/**
 * A lean REST client for the benchmark: node:http with keep-alive connections (fetch/undici adds
 * ≈ 0.1 ms per request on this machine, which would be charged to the server under test).
 */
import * as http from 'node:http';

/** Milvus REST v2 envelope. */
export interface Envelope {
  code: number;
  message?: string;
  data?: any;
  sessionToken?: string;
  [k: string]: unknown;
}

export class RestClient {
  readonly #agent: http.Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(baseUrl: string, maxSockets = 64) {
    const u = new URL(baseUrl);
    this.#host = u.hostname;
    this.#port = Number(u.port);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
  }

  /** POSTs a JSON text to `/v2/vectordb/<route>` and returns the raw response text. */
  postText(route: string, body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#host,
          port: this.#port,
          path: `/v2/vectordb/${route}`,
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** POSTs and parses the envelope; throws on a non-zero code. */
  async post(route: string, body: string | object): Promise<Envelope> {
    const text = await this.postText(route, typeof body === 'string' ? body : JSON.stringify(body));
    const env = JSON.parse(text) as Envelope;
    if (env.code !== 0) throw new Error(`${route} failed: code ${env.code}: ${env.message}`);
    return env;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** A vector as JSON text (float32 values printed as JS numbers). */
export function vectorJson(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + v[i];
  return s + ']';
}
