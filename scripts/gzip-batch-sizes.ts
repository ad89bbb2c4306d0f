/**
 * The largest `entities/insert` batch per vector dimension that fits the API Lambda's 6 MB invocation
 * payload, plain versus `Content-Encoding: gzip`, as README.md quotes it. It builds realistic rows
 * (an int64 id and a unit-length Gaussian vector, as embedding models emit), writes them as JSON the
 * way clients do, and searches for the largest row count whose API Gateway proxy event stays within
 * the limit: a plain body travels as a JSON string inside the event (escaped), a gzip body base64-encoded
 * (`isBase64Encoded`, 4/3 of its size), and a plain body too when the REST API's binaryMediaTypes are
 * `*∕*`. Run once: `node --import tsx scripts/gzip-batch-sizes.ts` (about a minute).
 */
import * as zlib from 'node:zlib';

/** Lambda's synchronous invocation payload limit (6 MB, in bytes as Lambda counts it). */
const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The event around the body: headers twice (headers and multiValueHeaders), requestContext, path, and so on. */
const EVENT_OVERHEAD_BYTES = 8 * 1024;
const DIMS = [128, 768, 1536];

/** Deterministic standard normal samples (xorshift + Box-Muller), so every run measures the same data. */
function gaussians(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A float32's shortest decimal text that reads back as the same float32 (as Go's and Java's SDKs write float32). */
function float32Text(v: number): string {
  const f = Math.fround(v);
  for (let p = 1; p < 9; p++) {
    const t = Number(f.toPrecision(p));
    if (Math.fround(t) === f) return String(t);
  }
  return String(Number(f.toPrecision(9)));
}

/** How clients write a float32 vector's components. */
const FORMATS: Record<string, (v: number) => string> = {
  'float32 text (shortest round-trip, ~9 digits: Go, Java, numpy float32 repr)': float32Text,
  'float64 text of float32 values (~17 digits: Python json.dumps(vec.tolist()))': (v) => String(Math.fround(v)),
};

/** `n` rows of `dim`-d unit vectors as one JSON text per row. */
function rows(dim: number, n: number, format: (v: number) => string): string[] {
  const next = gaussians(dim * 7919 + 1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = Array.from({ length: dim }, next);
    const norm = Math.hypot(...v);
    out.push(`{"id":${1_000_000_000_000 + i},"vector":[${v.map((x) => format(x / norm)).join(',')}]}`);
  }
  return out;
}

/** The insert body of the first `n` rows. */
function body(all: string[], n: number): string {
  return `{"collectionName":"docs","data":[${all.slice(0, n).join(',')}]}`;
}

/** Bytes a plain body takes inside the event: a JSON string (quotes escaped). */
const plainEvent = (text: string) => Buffer.byteLength(JSON.stringify(text)) + EVENT_OVERHEAD_BYTES;
/** …or base64-encoded, when binaryMediaTypes cover application/json. */
const plainBase64Event = (text: string) => 4 * Math.ceil(Buffer.byteLength(text) / 3) + EVENT_OVERHEAD_BYTES;
/** Bytes a gzip body takes inside the event: always base64-encoded. */
const gzipEvent = (text: string) => 4 * Math.ceil(zlib.gzipSync(text).length / 3) + EVENT_OVERHEAD_BYTES;

/** The largest n in [1, hi] whose `size(n)` fits the limit (size grows with n). */
function largest(hi: number, size: (n: number) => number): number {
  let lo = 0;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(mid) <= LAMBDA_PAYLOAD_BYTES) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

for (const [name, format] of Object.entries(FORMATS)) {
  console.log(`\n${name}; limit ${LAMBDA_PAYLOAD_BYTES} bytes, ${EVENT_OVERHEAD_BYTES} of them for the event around the body`);
  console.log('| dim | JSON per row | gzip ratio | 1,000 rows plain / gzip | max rows plain (text) | max rows plain (base64, binaryMediaTypes */*) | max rows gzip |');
  console.log('|---|---|---|---|---|---|---|');
  for (const dim of DIMS) {
    const perRowGuess = Buffer.byteLength(body(rows(dim, 50, format), 50)) / 50;
    const all = rows(dim, Math.max(1000, Math.ceil((LAMBDA_PAYLOAD_BYTES / perRowGuess) * 3)), format);
    const plainText = largest(all.length, (n) => plainEvent(body(all, n)));
    const plainBase64 = largest(all.length, (n) => plainBase64Event(body(all, n)));
    const gzip = largest(all.length, (n) => gzipEvent(body(all, n)));
    const json1000 = Buffer.byteLength(body(all, 1000));
    const gzip1000 = zlib.gzipSync(body(all, 1000)).length;
    const mb = (b: number) => (b / 1e6).toFixed(2);
    console.log(
      `| ${dim} | ${Math.round(json1000 / 1000).toLocaleString('en')} B | ${(json1000 / gzip1000).toFixed(2)}× | ${mb(json1000)} / ${mb(gzip1000)} MB | ${plainText.toLocaleString('en')} | ${plainBase64.toLocaleString('en')} | ${gzip.toLocaleString('en')} |`,
    );
  }
}
