/**
 * The benchmark's data: a seeded, clustered vector set, its queries, a scalar `bucket` column for
 * filtered search, and exact ground truth — all cached under `.bench-cache/` (gitignored).
 *
 * Generator (see bench/README.md): a Gaussian mixture in a low-dimensional latent space, lifted to
 * `dim` by a fixed random linear map, plus a little isotropic noise in the full space, then
 * unit-normalised. Real embeddings have low intrinsic dimension and topical clusters; uniform
 * random vectors have neither, so every index looks alike on them.
 *
 * Ground truth: exact top-k by brute force (usearch's `exactSearch`, f32, all cores), once per
 * (data, queries, filter) and cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import usearch, { type BatchMatches } from 'usearch';

/** Generator parameters (all part of the cache key). */
export interface GeneratorParams {
  n: number;
  dim: number;
  queries: number;
  seed: number;
  /** Dimension of the latent space the mixture lives in. */
  latentDim: number;
  /** Number of mixture components. */
  clusters: number;
  /** Per-cluster standard deviation range in latent units (cluster centres are N(0, 1)). */
  spreadMin: number;
  spreadMax: number;
  /** Standard deviation of the isotropic noise added after lifting (relative to a unit latent step). */
  ambientNoise: number;
  /** `bucket` values are uniform in [0, buckets). */
  buckets: number;
}

/** Defaults scaled to `n`: more topics for bigger sets. */
export function defaultGeneratorParams(n: number, dim: number, queries: number, seed = 42): GeneratorParams {
  return {
    n,
    dim,
    queries,
    seed,
    latentDim: 48,
    clusters: Math.max(16, Math.min(2048, Math.round(Math.sqrt(n)))),
    spreadMin: 0.3,
    spreadMax: 0.8,
    ambientNoise: 0.3,
    buckets: 1000,
  };
}

/** A generated data set. Row i has primary key i. */
export interface Dataset {
  params: GeneratorParams;
  /** `n × dim` floats, row-major, unit-norm rows. */
  base: Float32Array;
  /** `queries × dim` floats, drawn from the same mixture (not in `base`). */
  queries: Float32Array;
  /** `n` values in [0, buckets): the filter column, independent of the vectors. */
  bucket: Int32Array;
  /** Seconds spent generating (0 when read from cache). */
  generateSeconds: number;
  fromCache: boolean;
}

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller, both outputs used). */
function gaussian(r: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  };
}

/** The mixture: centres, spreads, mixing weights, the lift matrix. Deterministic in params. */
interface Mixture {
  centres: Float64Array; // clusters × latentDim
  spreads: Float64Array; // clusters
  cumulative: Float64Array; // clusters, cumulative weights
  lift: Float64Array; // latentDim × dim
}

function mixture(p: GeneratorParams): Mixture {
  const r = rng(p.seed);
  const g = gaussian(r);
  const centres = new Float64Array(p.clusters * p.latentDim);
  for (let i = 0; i < centres.length; i++) centres[i] = g();
  const spreads = new Float64Array(p.clusters);
  for (let c = 0; c < p.clusters; c++) spreads[c] = p.spreadMin + (p.spreadMax - p.spreadMin) * r();
  // Zipf-like topic sizes (some topics are much bigger than others, as in real corpora).
  const cumulative = new Float64Array(p.clusters);
  let total = 0;
  for (let c = 0; c < p.clusters; c++) total += 1 / Math.pow(c + 1, 0.5);
  let acc = 0;
  for (let c = 0; c < p.clusters; c++) {
    acc += 1 / Math.pow(c + 1, 0.5) / total;
    cumulative[c] = acc;
  }
  cumulative[p.clusters - 1] = 1;
  const lift = new Float64Array(p.latentDim * p.dim);
  const scale = 1 / Math.sqrt(p.latentDim);
  for (let i = 0; i < lift.length; i++) lift[i] = g() * scale;
  return { centres, spreads, cumulative, lift };
}

/** Fills `out` (count × dim) with samples of the mixture, using its own seeded stream. */
function sample(p: GeneratorParams, m: Mixture, out: Float32Array, count: number, seed: number, onProgress?: (done: number) => void): void {
  const r = rng(seed);
  const g = gaussian(r);
  const { latentDim: L, dim } = p;
  const z = new Float64Array(L);
  const x = new Float64Array(dim);
  const ambient = p.ambientNoise * Math.sqrt(1 / dim) * Math.sqrt(L); // noise comparable to one latent unit spread over dim
  for (let i = 0; i < count; i++) {
    const u = r();
    let c = 0;
    while (m.cumulative[c] < u) c++;
    const s = m.spreads[c];
    for (let j = 0; j < L; j++) z[j] = m.centres[c * L + j] + s * g();
    for (let d = 0; d < dim; d++) x[d] = ambient * g();
    for (let j = 0; j < L; j++) {
      const zj = z[j];
      const row = j * dim;
      for (let d = 0; d < dim; d++) x[d] += zj * m.lift[row + d];
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += x[d] * x[d];
    const inv = 1 / Math.sqrt(norm);
    const o = i * dim;
    for (let d = 0; d < dim; d++) out[o + d] = x[d] * inv;
    if (onProgress && (i & 4095) === 4095) onProgress(i + 1);
  }
  onProgress?.(count);
}

function key(p: GeneratorParams): string {
  return `${p.n}x${p.dim}-s${p.seed}-L${p.latentDim}-c${p.clusters}-sp${p.spreadMin}-${p.spreadMax}-a${p.ambientNoise}`;
}

function writeArray(file: string, a: ArrayBufferView): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  fs.renameSync(tmp, file);
}

/** A cached array of `expected` 4-byte elements, or null when the file is missing or of another size. */
function readArray<T extends Float32Array | Int32Array>(file: string, expected: number, Type: new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => T): T | null {
  if (!fs.existsSync(file)) return null;
  const buf = fs.readFileSync(file);
  if (buf.byteLength !== expected * 4) return null;
  // usearch's exactSearch ignores byteOffset, so hand it arrays that start their buffer.
  return buf.byteOffset === 0 ? new Type(buf.buffer, 0, expected) : new Type(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const readF32 = (file: string, expected: number) => readArray(file, expected, Float32Array);
const readI32 = (file: string, expected: number) => readArray(file, expected, Int32Array);

/** Generates (or reads from `cacheDir`) the data set. */
export function loadDataset(p: GeneratorParams, cacheDir: string, onProgress?: (done: number, total: number) => void): Dataset {
  const k = key(p);
  const baseFile = path.join(cacheDir, `base-${k}.f32`);
  const queryFile = path.join(cacheDir, `queries-${k}-q${p.queries}.f32`);
  const bucketFile = path.join(cacheDir, `bucket-${p.n}-s${p.seed}-b${p.buckets}.i32`);
  const t0 = performance.now();
  let fromCache = true;
  let base = readF32(baseFile, p.n * p.dim);
  let queries = readF32(queryFile, p.queries * p.dim);
  let bucket = readI32(bucketFile, p.n);
  const total = (base ? 0 : p.n) + (queries ? 0 : p.queries);
  if (!base || !queries) {
    fromCache = false;
    const m = mixture(p);
    if (!base) {
      base = new Float32Array(p.n * p.dim);
      sample(p, m, base, p.n, p.seed + 1, (d) => onProgress?.(d, total));
      writeArray(baseFile, base);
    }
    if (!queries) {
      const done = total - p.queries;
      queries = new Float32Array(p.queries * p.dim);
      sample(p, m, queries, p.queries, p.seed + 2, (d) => onProgress?.(done + d, total));
      writeArray(queryFile, queries);
    }
  }
  if (!bucket) {
    const r = rng(p.seed + 3);
    bucket = new Int32Array(p.n);
    for (let i = 0; i < p.n; i++) bucket[i] = Math.floor(r() * p.buckets);
    writeArray(bucketFile, bucket);
  }
  return { params: p, base, queries, bucket, generateSeconds: fromCache ? 0 : (performance.now() - t0) / 1000, fromCache };
}

/** Exact neighbours: `queries × k` row ids, best first (-1 pads when fewer rows qualify). */
export interface GroundTruth {
  k: number;
  ids: Int32Array;
  /** How many valid ids each query has (< k only under very selective filters). */
  counts: Int32Array;
  seconds: number;
  fromCache: boolean;
}

/**
 * Exact top-k for every query (cosine), over all rows or over rows with `bucket < maxBucket`,
 * cached under `cacheDir`.
 */
export function groundTruth(ds: Dataset, k: number, cacheDir: string, maxBucket?: number): GroundTruth {
  const p = ds.params;
  const filterKey = maxBucket === undefined ? 'all' : `b${maxBucket}of${p.buckets}`;
  const file = path.join(cacheDir, `gt-${key(p)}-q${p.queries}-k${k}-${filterKey}.i32`);
  const cached = readI32(file, p.queries * k);
  if (cached) return { k, ids: cached, counts: validCounts(cached, k, p.queries), seconds: 0, fromCache: true };
  const t0 = performance.now();
  let rows: Int32Array | null = null;
  let data = ds.base;
  if (maxBucket !== undefined) {
    let m = 0;
    for (let i = 0; i < p.n; i++) if (ds.bucket[i] < maxBucket) m++;
    rows = new Int32Array(m);
    data = new Float32Array(m * p.dim);
    let j = 0;
    for (let i = 0; i < p.n; i++) {
      if (ds.bucket[i] >= maxBucket) continue;
      rows[j] = i;
      data.set(ds.base.subarray(i * p.dim, (i + 1) * p.dim), j * p.dim);
      j++;
    }
  }
  const ids = new Int32Array(p.queries * k).fill(-1);
  const available = rows ? rows.length : p.n;
  if (available > 0) {
    const kk = Math.min(k, available);
    const res = usearch.exactSearch(data, ds.queries, p.dim, kk, usearch.MetricKind.Cos, 0) as BatchMatches;
    for (let q = 0; q < p.queries; q++) {
      const m = res.get(q);
      for (let j = 0; j < Math.min(kk, m.keys.length); j++) {
        const key = Number(m.keys[j]);
        ids[q * k + j] = rows ? rows[key] : key;
      }
    }
  }
  writeArray(file, ids);
  return { k, ids, counts: validCounts(ids, k, p.queries), seconds: (performance.now() - t0) / 1000, fromCache: false };
}

/** Per query, how many of its `k` ids are valid (the -1 padding starts after them). */
function validCounts(ids: Int32Array, k: number, queries: number): Int32Array {
  const counts = new Int32Array(queries);
  for (let q = 0; q < queries; q++) {
    let c = 0;
    while (c < k && ids[q * k + c] >= 0) c++;
    counts[q] = c;
  }
  return counts;
}

/** Row `i` of a flat matrix (a view, no copy). */
export function row(m: Float32Array, dim: number, i: number): Float32Array {
  return m.subarray(i * dim, (i + 1) * dim);
}
