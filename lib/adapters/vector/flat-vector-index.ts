/**
 * Exact (brute-force) vector index: growing segments, FLAT-indexed segments, and the selective-filter
 * fallback of HNSW segments use it.
 *
 * Vectors live in one flat Float32Array that doubles when full, so appends are amortized O(1).
 * For COSINE the inverse norm of each row is computed once at add time (the vectors stay as given,
 * so existing arrays can be adopted without a normalized copy): a search is a dot product with the
 * normalized query, scaled by the row's inverse norm.
 *
 * Search strategy (measured on 2 cores, dim 128: usearch `exactSearch` takes 0.20 ms at 10k rows
 * and 2.0 ms at 100k, a JS loop 0.89 / 8.9 ms):
 * - unfiltered: usearch `exactSearch` (SIMD, 1 thread), then the k winners are re-scored in JS in
 *   double precision, so scores are exact and agree with the filtered path;
 * - filtered (`accept`): a sample estimates selectivity; unselective filters over-fetch with
 *   `exactSearch` and filter (exact: a better accepted row would be among the over-fetched ones),
 *   selective filters run a JS loop that scores only accepted rows into a bounded top-k heap.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { exactSearch, MetricKind } from 'usearch';
import { CorruptDataError } from '../../engine/errors.ts';
import { appendChecksumFooter, verifyChecksumFooter } from './index-file-checksum.ts';
import type { VectorHits, VectorIndex, VectorIndexParams } from '../../engine/ports/vector-index.ts';
import { estimateSelectivity } from '../../engine/search/selectivity.ts';
import { checkAdd, checkQuery, resolveIndexParams, type ResolvedIndexParams } from './index-params.ts';
import { usearchKeyWords } from './usearch-keys.ts';

/** Magic of the flat index file. */
export const FLAT_INDEX_MAGIC = 'MGFL';
/** Flat index file format version this build writes: 2 ends with the checksum footer of index-file-checksum.ts; 1 (no footer) is still read. */
export const FLAT_INDEX_VERSION = 2;
const HEADER_BYTES = 24;
const METRIC_CODE = { L2: 1, IP: 2, COSINE: 3 } as const;

/** At or above this estimated selectivity, over-fetching with exactSearch beats the JS loop (≈ 4× faster per row). */
const OVERFETCH_MIN_SELECTIVITY = 0.3;
/** Below this many rows the JS loop is as fast as a native call. */
const NATIVE_MIN_ROWS = 256;

const EMPTY_HITS: VectorHits = { keys: new Uint32Array(0), scores: new Float32Array(0) };

/** Rounds up to the next multiple of 8. */
function align8(n: number): number {
  return (n + 7) & ~7;
}

/** An exact-scan index implementing the VectorIndex port. */
export class FlatVectorIndex implements VectorIndex {
  /** Params with defaults filled in (M, efConstruction and quantization are unused here). */
  readonly params: ResolvedIndexParams;
  /** Rows × dim floats, as given; only the first `count` rows are live. */
  #data: Float32Array;
  /** Row offsets (keys) of the rows. */
  #ids: Uint32Array;
  /** COSINE only: 1 / ‖row‖ (0 for a zero row). */
  #invNorm: Float64Array;
  #count = 0;
  /** False while #data is a caller's array adopted by fromVectors: it is never written, only replaced. */
  #owned = true;
  /** Query scratch in its own buffer: usearch's exactSearch ignores typed-array byte offsets. */
  readonly #query: Float32Array;
  /** COSINE: 1 / ‖query‖ of the current search. */
  #queryInvNorm = 1;
  #closed = false;

  /** An empty index with room for `initialCapacity` rows before the first growth. */
  constructor(params: VectorIndexParams, initialCapacity = 0) {
    this.params = resolveIndexParams(params);
    const cap = Math.max(0, Math.floor(initialCapacity));
    this.#data = new Float32Array(cap * this.params.dim);
    this.#ids = new Uint32Array(cap);
    this.#invNorm = new Float64Array(this.params.metric === 'COSINE' ? cap : 0);
    this.#query = new Float32Array(this.params.dim);
  }

  /**
   * An index over existing vectors (`keys.length * dim` floats), adopted without copying: it never
   * writes into them (a later `add` moves the rows to a grown buffer of its own). usearch's
   * exactSearch cannot take arrays that start past byte 0 of their buffer (such as a decoded
   * column's view), so those are scanned in JS only; pass `vectors.slice()` for the native path.
   */
  static fromVectors(params: VectorIndexParams, keys: Uint32Array, vectors: Float32Array): FlatVectorIndex {
    const index = new FlatVectorIndex(params);
    checkAdd(keys, vectors, index.params.dim);
    index.#data = vectors;
    index.#ids = keys.slice();
    index.#count = keys.length;
    index.#owned = false;
    if (index.params.metric === 'COSINE') {
      index.#invNorm = new Float64Array(keys.length);
      index.#computeInvNorms(0, keys.length);
    }
    return index;
  }

  /** Reads a file written by `save`, verifying its checksum (version 2) and checking it against `params`. */
  static load(path: string, params: VectorIndexParams): FlatVectorIndex {
    const index = new FlatVectorIndex(params);
    const p = index.params;
    // Any footer is verified, so a version field damaged into 1 cannot skip the check.
    const checked = verifyChecksumFooter(path, 'flat index file', false) !== undefined;
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(HEADER_BYTES);
      if (readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES) flatCorrupt(path, 'shorter than its header');
      if (head.toString('latin1', 0, 4) !== FLAT_INDEX_MAGIC) flatCorrupt(path, `magic is ${JSON.stringify(head.toString('latin1', 0, 4))}, expected "${FLAT_INDEX_MAGIC}"`);
      const version = head.readUInt16LE(4);
      if (version !== FLAT_INDEX_VERSION && version !== 1) flatCorrupt(path, `format version ${version} (this build reads 1 and ${FLAT_INDEX_VERSION})`);
      if (version === FLAT_INDEX_VERSION && !checked) flatCorrupt(path, 'its checksum footer is missing');
      const metric = head[6];
      const dim = head.readUInt32LE(8);
      const count = head.readUInt32LE(12);
      if (metric !== METRIC_CODE[p.metric]) flatCorrupt(path, `metric code ${metric} does not match the expected ${p.metric} (${METRIC_CODE[p.metric]})`);
      if (dim !== p.dim) flatCorrupt(path, `dimension ${dim} does not match the expected ${p.dim}`);
      const ids = new Uint32Array(count);
      const data = new Float32Array(count * dim);
      const idsPos = HEADER_BYTES;
      const dataPos = idsPos + align8(4 * count);
      // Read straight into fresh buffers (byte offset 0) so exactSearch can use them.
      if (readFully(fd, ids, idsPos) !== ids.byteLength || readFully(fd, data, dataPos) !== data.byteLength) {
        flatCorrupt(path, `truncated: ${count} rows of dim ${dim} expected`);
      }
      index.#ids = ids;
      index.#data = data;
      index.#count = count;
      if (p.metric === 'COSINE') {
        index.#invNorm = new Float64Array(count);
        index.#computeInvNorms(0, count);
      }
    } finally {
      closeSync(fd);
    }
    return index;
  }

  /** Rows in the index. */
  size(): number {
    this.#live();
    return this.#count;
  }

  /** Appends vectors under row offsets (copied). */
  add(keys: Uint32Array, vectors: Float32Array): void {
    this.#live();
    const dim = this.params.dim;
    checkAdd(keys, vectors, dim);
    const n = keys.length;
    if (n === 0) return;
    this.#reserve(this.#count + n);
    const start = this.#count * dim;
    this.#data.set(vectors, start);
    this.#ids.set(keys, this.#count);
    if (this.params.metric === 'COSINE') this.#computeInvNorms(this.#count, this.#count + n);
    this.#count += n;
  }

  /** Fills #invNorm for rows [from, to). */
  #computeInvNorms(from: number, to: number): void {
    const data = this.#data;
    const dim = this.params.dim;
    const inv = this.#invNorm;
    for (let r = from; r < to; r++) {
      let s = 0;
      for (let j = r * dim, e = j + dim; j < e; j++) s += data[j] * data[j];
      inv[r] = s === 0 ? 0 : 1 / Math.sqrt(s);
    }
  }

  /** Grows the buffers to hold `rows` rows (at least doubling). */
  #reserve(rows: number): void {
    const cap = this.#ids.length;
    if (rows <= cap && this.#owned) return;
    const next = Math.max(rows, cap * 2, 64);
    const data = new Float32Array(next * this.params.dim);
    data.set(this.#data.subarray(0, this.#count * this.params.dim));
    const ids = new Uint32Array(next);
    ids.set(this.#ids.subarray(0, this.#count));
    if (this.params.metric === 'COSINE') {
      const inv = new Float64Array(next);
      inv.set(this.#invNorm.subarray(0, this.#count));
      this.#invNorm = inv;
    }
    this.#data = data;
    this.#ids = ids;
    this.#owned = true;
  }

  /**
   * The exact k best rows. `ef` is ignored. With `accept`, only accepted rows are returned (k of
   * them when that many exist).
   */
  search(query: Float32Array, k: number, options: { ef?: number; accept?: (key: number) => boolean } = {}): VectorHits {
    this.#live();
    const dim = this.params.dim;
    checkQuery(query, dim);
    const n = this.#count;
    if (k <= 0 || n === 0) return EMPTY_HITS;
    const q = this.#query;
    q.set(query);
    if (this.params.metric === 'COSINE') {
      let s = 0;
      for (let j = 0; j < dim; j++) s += q[j] * q[j];
      this.#queryInvNorm = s === 0 ? 0 : 1 / Math.sqrt(s);
    }
    const accept = options.accept;
    const nativeOk = n >= NATIVE_MIN_ROWS && this.#data.byteOffset === 0;

    // A few extra native candidates absorb float32-vs-double near-ties at the k-th place.
    if (!accept) return nativeOk ? this.#nativeTopK(q, Math.min(k + 8, n), k, null) : this.#scan(q, k, null);
    if (nativeOk) {
      const ids = this.#ids;
      const selectivity = estimateSelectivity(n, accept, (r) => ids[r]);
      if (selectivity >= OVERFETCH_MIN_SELECTIVITY) {
        return this.#nativeTopK(q, Math.min(n, Math.ceil((k / selectivity) * 1.5) + 16), k, accept);
      }
    }
    return this.#scan(q, k, accept);
  }

  /**
   * Asks exactSearch for the `count` best rows, keeps the accepted ones, widens (×4) until k are
   * accepted or every row was returned, then re-scores the winners in double precision.
   */
  #nativeTopK(q: Float32Array, count: number, k: number, accept: ((key: number) => boolean) | null): VectorHits {
    const n = this.#count;
    const dim = this.params.dim;
    const dataset = this.#data.subarray(0, n * dim);
    const metric = this.params.metric === 'L2' ? MetricKind.L2sq : this.params.metric === 'IP' ? MetricKind.IP : MetricKind.Cos;
    const ids = this.#ids;
    for (;;) {
      const m = exactSearch(dataset, q, dim, count, metric, 1) as { keys: BigUint64Array };
      const words = usearchKeyWords(m.keys);
      const heap = new TopK(Math.min(k, count));
      for (let i = 0; i < count; i++) {
        const row = words[2 * i];
        const key = ids[row];
        if (accept && !accept(key)) continue;
        heap.push(this.#badness(q, row), key);
      }
      if (heap.size >= Math.min(k, n) || count >= n) return heap.drain(this.params.metric === 'L2');
      count = Math.min(n, count * 4);
    }
  }

  /** The JS scan: scores only accepted rows into a bounded heap. */
  #scan(q: Float32Array, k: number, accept: ((key: number) => boolean) | null): VectorHits {
    const n = this.#count;
    const ids = this.#ids;
    const heap = new TopK(Math.min(k, n));
    for (let r = 0; r < n; r++) {
      const key = ids[r];
      if (accept !== null && !accept(key)) continue;
      const bad = this.#badness(q, r);
      if (heap.size < heap.capacity || bad < heap.worst || (bad === heap.worst && key < heap.worstKey)) heap.push(bad, key);
    }
    return heap.drain(this.params.metric === 'L2');
  }

  /** Lower is better: squared L2, the negated dot product (IP) or negated cosine, in double precision. */
  #badness(q: Float32Array, row: number): number {
    const data = this.#data;
    const dim = this.params.dim;
    const base = row * dim;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let j = 0;
    const end4 = dim - (dim & 3);
    if (this.params.metric === 'L2') {
      for (; j < end4; j += 4) {
        const d0 = data[base + j] - q[j];
        const d1 = data[base + j + 1] - q[j + 1];
        const d2 = data[base + j + 2] - q[j + 2];
        const d3 = data[base + j + 3] - q[j + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
      }
      for (; j < dim; j++) {
        const d = data[base + j] - q[j];
        s0 += d * d;
      }
      return s0 + s1 + s2 + s3;
    }
    for (; j < end4; j += 4) {
      s0 += data[base + j] * q[j];
      s1 += data[base + j + 1] * q[j + 1];
      s2 += data[base + j + 2] * q[j + 2];
      s3 += data[base + j + 3] * q[j + 3];
    }
    for (; j < dim; j++) s0 += data[base + j] * q[j];
    const dot = s0 + s1 + s2 + s3;
    return this.params.metric === 'COSINE' ? -dot * this.#invNorm[row] * this.#queryInvNorm : -dot;
  }

  /**
   * Writes the rows to a versioned file ('MGFL'): header (magic, version u16, metric u8, pad,
   * dim u32, rows u32, reserved), row offsets u32[rows] padded to 8, the f32 vectors as added,
   * then the checksum footer (index-file-checksum.ts).
   * FLAT-indexed sealed segments can persist their scan state with it.
   */
  save(path: string): void {
    this.#live();
    const n = this.#count;
    const head = Buffer.alloc(HEADER_BYTES);
    head.write(FLAT_INDEX_MAGIC, 0, 'latin1');
    head.writeUInt16LE(FLAT_INDEX_VERSION, 4);
    head[6] = METRIC_CODE[this.params.metric];
    head.writeUInt32LE(this.params.dim, 8);
    head.writeUInt32LE(n, 12);
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, head);
      const ids = this.#ids.subarray(0, n);
      writeSync(fd, ids);
      const pad = align8(ids.byteLength) - ids.byteLength;
      if (pad > 0) writeSync(fd, new Uint8Array(pad));
      writeSync(fd, this.#data.subarray(0, n * this.params.dim));
    } finally {
      closeSync(fd);
    }
    appendChecksumFooter(path);
  }

  /** Releases the buffers; the index cannot be used afterwards. */
  close(): void {
    this.#closed = true;
    this.#data = new Float32Array(0);
    this.#ids = new Uint32Array(0);
    this.#invNorm = new Float64Array(0);
    this.#count = 0;
  }

  /** Throws after close. */
  #live(): void {
    if (this.#closed) throw new Error('flat vector index is closed; create or load a new one');
  }
}

/** Reads exactly the bytes of `view` from `pos`; returns the number read. */
function readFully(fd: number, view: ArrayBufferView, pos: number): number {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let done = 0;
  while (done < bytes.length) {
    const got = readSync(fd, bytes, done, bytes.length - done, pos + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/** Throws a CorruptDataError for a flat index file. */
function flatCorrupt(path: string, what: string): never {
  throw new CorruptDataError(`flat index file ${path} is unusable: ${what}; rebuild it from the segment's vector column`);
}

/**
 * A bounded max-heap on (badness, key): the root is the worst kept hit, so a better candidate
 * replaces it in O(log k). Ties break on the smaller key, which makes results deterministic.
 */
class TopK {
  readonly capacity: number;
  size = 0;
  readonly #bad: Float64Array;
  readonly #key: Uint32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#bad = new Float64Array(capacity);
    this.#key = new Uint32Array(capacity);
  }

  /** Badness of the worst kept hit (meaningful when full). */
  get worst(): number {
    return this.#bad[0];
  }

  /** Key of the worst kept hit. */
  get worstKey(): number {
    return this.#key[0];
  }

  /** Offers a hit; keeps it if the heap has room or it beats the worst. */
  push(bad: number, key: number): void {
    const b = this.#bad;
    const ks = this.#key;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (b[p] > bad || (b[p] === bad && ks[p] > key)) break;
        b[i] = b[p];
        ks[i] = ks[p];
        i = p;
      }
      b[i] = bad;
      ks[i] = key;
      return;
    }
    if (this.capacity === 0 || bad > b[0] || (bad === b[0] && key >= ks[0])) return;
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      if (l + 1 < n && (b[l + 1] > b[l] || (b[l + 1] === b[l] && ks[l + 1] > ks[l]))) c = l + 1;
      if (b[c] < bad || (b[c] === bad && ks[c] < key)) break;
      b[i] = b[c];
      ks[i] = ks[c];
      i = c;
    }
    b[i] = bad;
    ks[i] = key;
  }

  /** The kept hits best first, as Milvus scores (L2 distance, or similarity = −badness). */
  drain(isL2: boolean): VectorHits {
    const n = this.size;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const b = this.#bad;
    const ks = this.#key;
    order.sort((x, y) => b[x] - b[y] || ks[x] - ks[y]);
    const keys = new Uint32Array(n);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      keys[i] = ks[order[i]];
      scores[i] = isL2 ? b[order[i]] : -b[order[i]];
    }
    return { keys, scores };
  }
}
