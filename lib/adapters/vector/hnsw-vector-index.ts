/**
 * HNSW vector index over usearch: the index of sealed segments. Keys are segment row offsets.
 *
 * usearch returns distances (l2sq, 1 − ip, 1 − cos); scores are converted to Milvus's (squared L2
 * ascending; IP and cosine similarity descending), which keeps usearch's best-first order.
 *
 * Files: usearch's format followed by a checksum footer (index-file-checksum.ts), verified on every
 * `load` / `view` before usearch reads the file; files without a footer (written before checksums)
 * still open, unverified.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { CorruptDataError } from '../../engine/errors.ts';
import { ensureVectors } from '../../engine/ports/lazy-vectors.ts';
import { DEFAULT_SEARCH_EF, type VectorHits, type VectorIndex, type VectorIndexParams, type VectorSearchOptions } from '../../engine/ports/vector-index.ts';
import { estimateSelectivity } from '../../engine/search/selectivity.ts';
import { FlatVectorIndex } from './flat-vector-index.ts';
import { appendChecksumFooter, verifyChecksumFooter } from './index-file-checksum.ts';
import { checkAdd, checkQuery, resolveIndexParams, type ResolvedIndexParams } from './index-params.ts';
import { toUsearchKeys, usearchKeyWords } from './usearch-keys.ts';

const METRIC_KIND = { L2: MetricKind.L2sq, IP: MetricKind.IP, COSINE: MetricKind.Cos } as const;
const SCALAR_KIND = { f32: ScalarKind.F32, f16: ScalarKind.F16, bf16: ScalarKind.BF16, i8: ScalarKind.I8 } as const;

/**
 * The beam usearch is configured with. HNSW's effective beam is max(expansion_search, count), so a
 * small fixed value lets each search choose its own `ef` by asking for max(k, ef) results.
 */
const BASE_EXPANSION_SEARCH = 16;

/** usearch's on-disk codes (index_plugins.hpp metric_kind_t / scalar_kind_t). */
const METRIC_CODE = { L2: 0x65 /* 'e' */, IP: 0x69 /* 'i' */, COSINE: 0x63 /* 'c' */ } as const;
const SCALAR_CODE = { f32: 11, f16: 12, bf16: 4, i8: 23 } as const;
const USEARCH_MAGIC = 'usearch';
const HEAD_BYTES = 64;

const EMPTY_HITS: VectorHits = { keys: new Uint32Array(0), scores: new Float32Array(0) };

/** Keys are dense row offsets, so row r of the sample is key r. */
const identity = (r: number) => r;

/** Options of `load` and `view`. */
export interface HnswOpenOptions {
  /**
   * The segment's raw vectors (row i = key i, `size * dim` floats), kept by reference. With them,
   * searches whose `accept` passes few rows scan them exactly instead of over-fetching from the
   * graph (which degrades sharply for selective filters; knowhere switches to brute force too),
   * and a search always returns k rows when k rows qualify. Without them that holds only as far
   * as the graph reaches: an IP graph can leave rows unreachable, so a very selective filter may
   * come back short.
   */
  vectors?: Float32Array;
}

/** An HNSW index (in memory, loaded or memory-mapped) implementing the VectorIndex port. */
export class HnswVectorIndex implements VectorIndex {
  /** Params with defaults filled in. */
  readonly params: ResolvedIndexParams;
  /** True for a memory-mapped index (`view`), which cannot grow. */
  readonly readOnly: boolean;
  #index: Index | null;
  readonly #convert: (d: number) => number;
  /** Raw vectors for the exact path of selective filters (see HnswOpenOptions.vectors). */
  readonly #vectors: Float32Array | null;
  /** Exact index over #vectors, built on first use. */
  #exact: FlatVectorIndex | null = null;

  private constructor(params: ResolvedIndexParams, index: Index, readOnly: boolean, vectors: Float32Array | undefined) {
    this.params = params;
    this.#index = index;
    this.readOnly = readOnly;
    this.#convert = params.metric === 'L2' ? (d) => d : (d) => 1 - d;
    if (vectors !== undefined && vectors.length !== index.size() * params.dim) {
      throw new RangeError(`opts.vectors must hold size × dim = ${index.size()} × ${params.dim} floats (row i = key i), got ${vectors.length}`);
    }
    this.#vectors = vectors ?? null;
  }

  /** A new, empty in-memory index. */
  static create(params: VectorIndexParams): HnswVectorIndex {
    const p = resolveIndexParams(params);
    return new HnswVectorIndex(p, newIndex(p), false, undefined);
  }

  /** Reads a saved index fully into memory (it may then grow). */
  static load(path: string, params: VectorIndexParams, opts: HnswOpenOptions = {}): HnswVectorIndex {
    const p = resolveIndexParams(params);
    verifyIndexFile(path, p);
    const index = newIndex(p);
    index.load(path);
    return new HnswVectorIndex(p, index, false, opts.vectors);
  }

  /** Memory-maps a saved index: pages load on demand and it is read-only (`add` throws). */
  static view(path: string, params: VectorIndexParams, opts: HnswOpenOptions = {}): HnswVectorIndex {
    const p = resolveIndexParams(params);
    verifyIndexFile(path, p);
    const index = newIndex(p);
    index.view(path);
    return new HnswVectorIndex(p, index, true, opts.vectors);
  }

  /** Rows in the index. */
  size(): number {
    return this.#live().size();
  }

  /**
   * Adds vectors under row offsets; `threads` 0 uses every core. Offsets must be new: usearch
   * rejects a key it already holds.
   */
  add(keys: Uint32Array, vectors: Float32Array, threads = 0): void {
    const index = this.#live();
    if (this.readOnly) {
      throw new Error('cannot add to a memory-mapped HNSW index (opened with view); load() it instead, or build a new index');
    }
    checkAdd(keys, vectors, this.params.dim);
    if (keys.length === 0) return;
    if (this.#vectors !== null) {
      throw new Error('cannot add to an HNSW index opened with opts.vectors (they would no longer match); open it without them');
    }
    index.add(toUsearchKeys(keys), vectors, threads);
  }

  /**
   * The k best rows for `query`. `ef` (default 64) is the beam width. With `accept`, a sample of
   * keys estimates the selectivity and results are over-fetched from the graph (about
   * 1.5 k / selectivity) until k accepted rows are found or the whole index was returned. When
   * the raw vectors were given at open, very selective filters, and searches that fall short
   * once, scan them exactly instead (see HnswOpenOptions.vectors).
   */
  search(query: Float32Array, k: number, options: VectorSearchOptions = {}): VectorHits {
    const index = this.#live();
    checkQuery(query, this.params.dim);
    const size = index.size();
    if (k <= 0 || size === 0) return EMPTY_HITS;
    const ef = options.ef ?? DEFAULT_SEARCH_EF;
    const accept = options.accept;
    if (!accept) {
      const m = index.search(query, Math.min(Math.max(k, ef), size), 1);
      // Fewer rows than asked for means some are unreachable in the graph (it happens with IP).
      if (m.keys.length < Math.min(k, size) && this.#vectors !== null) return this.#exactSearch(query, k, undefined);
      return this.#take(m, k, null);
    }

    const selectivity = estimateSelectivity(size, accept, identity);
    const exact = this.#vectors !== null;
    // The caller (the engine's segment search) sets the threshold; scanning a few % of the rows
    // exactly is cheap, while graph over-fetch degrades sharply for selective filters.
    if (exact && options.exactBelowSelectivity !== undefined && selectivity < options.exactBelowSelectivity) return this.#exactSearch(query, k, accept);
    let count = Math.min(Math.max(2 * k, ef, Math.ceil((k / selectivity) * 1.5)), size);
    for (;;) {
      const m = index.search(query, count, 1);
      const hits = this.#take(m, k, accept);
      if (hits.keys.length === k || m.keys.length >= size) return hits; // k found, or every row seen
      // Too few accepted. Deeper graph searches get costly fast (163 ms at 1 % when the filter
      // correlates with the clusters) and cannot reach rows the graph does not link to, so scan
      // exactly when the vectors are at hand; otherwise widen while the graph has more to give.
      if (exact) return this.#exactSearch(query, k, accept);
      if (count >= size || m.keys.length < count) return hits; // best effort: see HnswOpenOptions
      count = Math.min(count * 2, size);
    }
  }

  /** Exact search over the raw vectors (only when opened with `opts.vectors`). */
  #exactSearch(query: Float32Array, k: number, accept: ((key: number) => boolean) | undefined): VectorHits {
    if (this.#exact === null) {
      ensureVectors(this.#vectors!); // a segment's vectors may still be loading in the background
      this.#exact = FlatVectorIndex.fromVectors(this.params, denseKeys(this.#vectors!.length / this.params.dim), this.#vectors!);
    }
    return this.#exact.search(query, k, { accept });
  }

  /** The first `k` (accepted) matches as Milvus hits. */
  #take(m: { keys: BigUint64Array; distances: Float32Array }, k: number, accept: ((key: number) => boolean) | null): VectorHits {
    const words = usearchKeyWords(m.keys);
    const n = m.keys.length;
    const convert = this.#convert;
    if (!accept) {
      const len = Math.min(k, n);
      const keys = new Uint32Array(len);
      const scores = new Float32Array(len);
      for (let i = 0; i < len; i++) {
        keys[i] = words[2 * i];
        scores[i] = convert(m.distances[i]);
      }
      return { keys, scores };
    }
    const keys = new Uint32Array(Math.min(k, n));
    const scores = new Float32Array(keys.length);
    let j = 0;
    for (let i = 0; i < n && j < k; i++) {
      const key = words[2 * i];
      if (!accept(key)) continue;
      keys[j] = key;
      scores[j++] = convert(m.distances[i]);
    }
    return j === keys.length ? { keys, scores } : { keys: keys.subarray(0, j), scores: scores.subarray(0, j) };
  }

  /** Writes the index to a local file (usearch format and a checksum footer, both verified on load/view). */
  save(path: string): void {
    this.#live().save(path);
    appendChecksumFooter(path);
  }

  /**
   * Drops the native index. usearch's JS binding has no explicit free: memory (or the memory map)
   * is released when the garbage collector finalizes the object, so callers must not keep
   * references to this instance after close.
   */
  close(): void {
    this.#index = null;
    this.#exact?.close();
    this.#exact = null;
  }

  /** The native index, or an error after close. */
  #live(): Index {
    if (this.#index === null) throw new Error('HNSW index is closed; open it again with HnswVectorIndex.load or view');
    return this.#index;
  }
}

/** Keys 0..n-1. */
function denseKeys(n: number): Uint32Array {
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = i;
  return keys;
}

/** A usearch index configured from resolved params. */
function newIndex(p: ResolvedIndexParams): Index {
  return new Index({
    dimensions: p.dim,
    metric: METRIC_KIND[p.metric],
    quantization: SCALAR_KIND[p.quantization],
    connectivity: p.M,
    expansion_add: p.efConstruction,
    expansion_search: BASE_EXPANSION_SEARCH,
    multi: false,
  });
}

/**
 * Verifies a saved index file's checksum footer, then checks its usearch header against the
 * expected params. usearch itself silently adopts the file's metric and dimension, which would turn
 * a catalog/file mismatch into wrong scores. File layout: u32 rows, u32 bytes per vector, the
 * vectors, then a 64-byte header (then the graph, then the footer).
 */
function verifyIndexFile(path: string, p: ResolvedIndexParams): void {
  verifyChecksumFooter(path, 'HNSW index file', false);
  const fd = openSync(path, 'r');
  try {
    const pre = Buffer.alloc(8);
    if (readSync(fd, pre, 0, 8, 0) !== 8) fileCorrupt(path, 'shorter than 8 bytes');
    const rows = pre.readUInt32LE(0);
    const rowBytes = pre.readUInt32LE(4);
    const head = Buffer.alloc(HEAD_BYTES);
    const at = 8 + rows * rowBytes;
    const fileBytes = fstatSync(fd).size;
    if (at + HEAD_BYTES > fileBytes || readSync(fd, head, 0, HEAD_BYTES, at) !== HEAD_BYTES) {
      fileCorrupt(path, `no header at offset ${at} (${rows} rows × ${rowBytes} bytes) in a ${fileBytes}-byte file`);
    }
    if (head.toString('latin1', 0, 7) !== USEARCH_MAGIC) fileCorrupt(path, `no usearch magic at offset ${at}`);
    const metric = head[13];
    const scalar = head[14];
    const dims = Number(head.readBigUInt64LE(33));
    const multi = head[41];
    if (metric !== METRIC_CODE[p.metric]) {
      fileCorrupt(path, `metric code '${String.fromCharCode(metric)}' does not match the expected ${p.metric} ('${String.fromCharCode(METRIC_CODE[p.metric])}')`);
    }
    if (scalar !== SCALAR_CODE[p.quantization]) fileCorrupt(path, `scalar kind ${scalar} does not match quantization ${p.quantization} (${SCALAR_CODE[p.quantization]})`);
    if (dims !== p.dim) fileCorrupt(path, `dimension ${dims} does not match the expected ${p.dim}`);
    if (multi !== 0) fileCorrupt(path, 'it is a multi-key index');
  } finally {
    closeSync(fd);
  }
}

/** Throws a CorruptDataError for an index file. */
function fileCorrupt(path: string, what: string): never {
  throw new CorruptDataError(`HNSW index file ${path} is unusable: ${what}; rebuild the segment's index`);
}
