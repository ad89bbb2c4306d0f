/**
 * Row-major storage of one FloatVector field of a segment, growable while the segment grows.
 *
 * A sealed segment opened from a local chunk file can start *lazy*: its buffer is allocated (the
 * kernel maps pages only as they are written) and filled by a background reader, one chunk at a
 * time, so opening a large collection does not wait for its vectors. Profiles of a 1M × 128
 * reopen showed 60 % of the time waiting on those reads: on this VM every first touch of fresh
 * memory costs ~3.5 ms per MiB, so 512 MiB of vectors alone took ~1.8 s. Reads of the contents go
 * through `get` (reads the one row if it is not there yet), `loadedData` and `squaredNorms`
 * (finish the load synchronously), or `ensureVectors` on the raw array (see ports/lazy-vectors.ts).
 *
 * Checksums: a chunk in format version 2 carries a CRC per 16 KiB block (column-codec.ts). Every
 * byte read from the file is verified before it is served: the background reader and
 * `ensureLoaded` verify the blocks they fill in place, and a single row read by `get` reads and
 * verifies its whole block(s) into a scratch buffer, then copies just the row (a cold column's
 * memory stays what its reads return). A mismatch throws a CorruptDataError naming the chunk's key.
 */
import { verifyChunkBlocks, type ChunkBlocks } from '../codec/column-codec.ts';
import { StorageError } from '../errors.ts';
import { registerLazyVectors, unregisterLazyVectors } from '../ports/lazy-vectors.ts';
import type { LocalFileHandle } from '../ports/local-files.ts';

/** Bytes the background reader reads per step. */
const LOAD_CHUNK_BYTES = 4 * 1024 * 1024;

/** Where a lazy column's bytes come from, and how far the background reader got. */
interface LazySource {
  /** The open file (closed once the load completes or is abandoned). */
  file: LocalFileHandle;
  /** Byte offset of row 0 in the file. */
  offset: number;
  /** The column's bytes (a view of the buffer being filled). */
  bytes: Uint8Array;
  /** Bytes [0, loaded) are in place. */
  loaded: number;
  /** A background read is in flight (the file must stay open until it returns). */
  reading: boolean;
  /** The chunk's block checksums (byte p of `bytes` lies in block floor(p / blockBytes)), or null for a chunk without them. */
  verify: ChunkChecksums | null;
}

/** The block checksums of a lazily read vector chunk, and the key that names it in errors. */
export interface ChunkChecksums {
  blocks: ChunkBlocks;
  key: string;
}

/**
 * Scratch for the blocks around a row read by `get` (reads are synchronous, so one buffer serves
 * all columns), and which verified bytes it holds: rows read in order mostly share blocks.
 */
let scratch = new Uint8Array(0);
let scratchOf: LazySource | null = null;
let scratchFrom = 0;
let scratchTo = 0;

/** Lazy columns waiting for the background reader, served one at a time so open's own reads are not starved. */
const loadQueue: VectorColumn[] = [];
let loaderRunning = false;

/** Vectors of one field: row i is `data.subarray(i*dim, (i+1)*dim)`. */
export class VectorColumn {
  private buf: Float32Array;
  private rows = 0;
  /** Squared norm of each row, computed on first use by cosine scans (rows [0, normRows) are valid). */
  private norms: Float64Array | null = null;
  private normRows = 0;
  /** Set while the column is being read from its file. */
  private source: LazySource | null = null;
  /** Why the contents are not here, for a column of a process that never reads them (see `unavailable`). */
  private unavailableReason: string | null = null;

  /**
   * Wraps existing flat data (sealed segments: zero-copy view over a decoded chunk), or starts empty
   * with room for `capacityRows` rows. A growing segment passes the rows it will hold when sealed:
   * the buffer is only address space until rows are written, whereas growing by doubling touched
   * twice the memory and copied it (fresh pages cost ~3.5 ms per MiB on the 2-core VM: 8 % of the
   * server's time in a 100k-row REST ingest).
   */
  constructor(
    readonly dim: number,
    data?: Float32Array,
    capacityRows = 64,
  ) {
    this.buf = data ?? new Float32Array(dim * Math.max(1, capacityRows));
    this.rows = data ? data.length / dim : 0;
  }

  /**
   * A column of `rows` vectors stored from byte `offset` of an open local file, read in the
   * background (see the module comment), or only as rows are asked for when `background` is false
   * (a segment this process does not keep in memory). The column owns `file` from here on (it
   * closes it; a column of no rows at once). The file must not change; it may be deleted (the
   * open handle keeps it). With `verify` (a version-2 chunk whose body is the vectors, starting
   * at `offset`), every block read is checked against its CRC.
   */
  static fromFile(dim: number, rows: number, file: LocalFileHandle, offset: number, background = true, verify: ChunkChecksums | null = null): VectorColumn {
    const column = new VectorColumn(dim, new Float32Array(rows * dim));
    if (rows === 0) {
      file.close();
      return column;
    }
    const bytes = new Uint8Array(column.buf.buffer, column.buf.byteOffset, column.buf.byteLength);
    column.source = { file, offset, bytes, loaded: 0, reading: false, verify };
    registerLazyVectors(column.buf, () => column.ensureLoaded());
    if (background) column.loadInBackground();
    return column;
  }

  /** Queues the rest of a lazy column for the background reader (no-op when complete or queued). */
  loadInBackground(): void {
    if (this.source === null || loadQueue.includes(this)) return;
    loadQueue.push(this);
    if (!loaderRunning) setImmediate(runLoader);
  }

  /**
   * A column that knows its row count but holds no vectors: a process that never reads a flushed
   * segment's vectors (a datanode) opens it without them. Reading the contents throws `reason`.
   */
  static unavailable(dim: number, rows: number, reason: string): VectorColumn {
    const column = new VectorColumn(dim, new Float32Array(0));
    column.rows = rows;
    column.unavailableReason = reason;
    return column;
  }

  private assertAvailable(): void {
    if (this.unavailableReason !== null) throw new Error(this.unavailableReason);
  }

  /** Number of rows. */
  get length(): number {
    return this.rows;
  }

  /** Whether the contents are still being read from the file. */
  get loading(): boolean {
    return this.source !== null;
  }

  /** Appends one vector (copied). */
  push(v: Float32Array): void {
    if ((this.rows + 1) * this.dim > this.buf.length) {
      const next = new Float32Array(Math.max(this.buf.length * 2, this.dim * 64));
      next.set(this.buf.subarray(0, this.rows * this.dim));
      this.buf = next;
    }
    this.buf.set(v, this.rows * this.dim);
    this.rows++;
  }

  /** Forgets rows from `rows` on (rollback of a failed apply). */
  truncate(rows: number): void {
    if (rows < this.rows) this.rows = rows;
    if (rows < this.normRows) this.normRows = rows;
  }

  /**
   * Squared euclidean norm of every row (summed in index order, exactly as a scoring loop would),
   * kept and extended as rows are appended: a cosine scan then needs one dot product per row
   * instead of two.
   */
  squaredNorms(): Float64Array {
    this.assertAvailable();
    this.ensureLoaded();
    if (this.norms === null || this.norms.length < this.rows) {
      const next = new Float64Array(Math.max(this.rows, (this.norms?.length ?? 0) * 2));
      if (this.norms !== null) next.set(this.norms.subarray(0, this.normRows));
      this.norms = next;
    }
    const data = this.buf;
    const dim = this.dim;
    const norms = this.norms;
    for (let r = this.normRows; r < this.rows; r++) {
      let s = 0;
      for (let j = r * dim, e = j + dim; j < e; j++) s += data[j] * data[j];
      norms[r] = s;
    }
    this.normRows = this.rows;
    return norms;
  }

  /** Row i as a view (do not keep it across pushes); on a lazy column, reads the row now if needed. */
  get(i: number): Float32Array {
    this.assertAvailable();
    const src = this.source;
    if (src !== null) {
      const rowBytes = this.dim * 4;
      const at = i * rowBytes;
      // Rows past the loaded prefix are read on their own; the background reader rewrites the same bytes later.
      if (at + rowBytes > src.loaded && i < this.rows) readRange(src, at, rowBytes);
    }
    return this.buf.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /**
   * All rows, flat (a view). On a lazy column the contents may still be loading: read them through
   * `loadedData`, or `ensureVectors` (ports/lazy-vectors.ts) where only the array is at hand.
   */
  data(): Float32Array {
    this.assertAvailable();
    return this.buf.subarray(0, this.rows * this.dim);
  }

  /** All rows, flat, complete (finishes a background load first). */
  loadedData(): Float32Array {
    this.ensureLoaded();
    return this.data();
  }

  /** Finishes a background load synchronously (no-op when complete or never lazy). */
  ensureLoaded(): void {
    const src = this.source;
    if (src === null) return;
    if (src.loaded < src.bytes.length) {
      readFully(src, src.loaded, src.bytes.length - src.loaded);
      verifyInPlace(src, src.loaded, src.bytes.length); // throws on damage: the column stays unloaded
    }
    src.loaded = src.bytes.length;
    this.detachSource();
  }

  /** Stops a background load (the segment is closed); the column must not be read afterwards. */
  close(): void {
    if (this.source !== null) this.detachSource();
  }

  /**
   * Detaches the lazy source (load complete, or abandoned by close); the file is closed now or when
   * the in-flight background read returns.
   */
  private detachSource(): void {
    const src = this.source!;
    if (!src.reading) src.file.close();
    if (scratchOf === src) scratchOf = null;
    this.source = null;
    unregisterLazyVectors(this.buf);
  }

  /** One background step: reads the next chunk; calls `done(false)` when this column needs no more steps. */
  loadStep(done: (more: boolean) => void): void {
    const src = this.source;
    if (src === null) return done(false);
    const length = Math.min(LOAD_CHUNK_BYTES, src.bytes.length - src.loaded);
    const at = src.loaded;
    src.reading = true;
    src.file.read(src.bytes.subarray(at, at + length), src.offset + at, (err, n) => {
      src.reading = false;
      if (this.source !== src) {
        // Detached meanwhile (closed, or completed by a synchronous read): the reader stops.
        src.file.close();
        return done(false);
      }
      if (err || n === 0) {
        // Leave the rest to a synchronous read when somebody needs it (it reports the error then).
        return done(false);
      }
      if (at === src.loaded) {
        // With checksums only whole verified blocks count as loaded (or the column's end).
        let end = at + n;
        if (src.verify !== null && end < src.bytes.length) end = at + n - (n % src.verify.blocks.blockBytes);
        try {
          verifyInPlace(src, at, end);
        } catch {
          return done(false); // damaged: left to a synchronous read, which reports it
        }
        src.loaded = end;
      }
      if (src.loaded >= src.bytes.length) {
        this.detachSource();
        return done(false);
      }
      done(true);
    });
  }
}

/** Reads `length` bytes at column byte `at` synchronously into place (not verified). */
function readFully(src: LazySource, at: number, length: number): void {
  readInto(src, src.bytes.subarray(at, at + length), at);
}

/** Reads `length` bytes at column byte `at` into place, verifying the blocks they lie in first. */
function readRange(src: LazySource, at: number, length: number): void {
  const v = src.verify;
  if (v === null) return readFully(src, at, length);
  const blockBytes = v.blocks.blockBytes;
  if (scratchOf !== src || at < scratchFrom || at + length > scratchTo) {
    const from = at - (at % blockBytes);
    const to = Math.min(src.bytes.length, Math.ceil((at + length) / blockBytes) * blockBytes);
    if (scratch.length < to - from) scratch = new Uint8Array(to - from);
    scratchOf = null;
    const into = scratch.subarray(0, to - from);
    readInto(src, into, from);
    verifyChunkBlocks(v.blocks, from / blockBytes, into, v.key);
    scratchOf = src;
    scratchFrom = from;
    scratchTo = to;
  }
  src.bytes.set(scratch.subarray(at - scratchFrom, at - scratchFrom + length), at);
}

/** Verifies column bytes [from, to) already in place (`from` at a block start, `to` at one or at the end). */
function verifyInPlace(src: LazySource, from: number, to: number): void {
  const v = src.verify;
  if (v === null || to <= from) return;
  verifyChunkBlocks(v.blocks, from / v.blocks.blockBytes, src.bytes.subarray(from, to), v.key);
}

/** Reads `into.length` bytes from column byte `at` into `into`. */
function readInto(src: LazySource, into: Uint8Array, at: number): void {
  let done = 0;
  try {
    while (done < into.length) {
      const n = src.file.readSync(into.subarray(done), src.offset + at + done);
      if (n === 0) throw new Error(`unexpected end of file at byte ${src.offset + at + done}`);
      done += n;
    }
  } catch (err) {
    throw new StorageError(`cannot read vectors from ${src.file.path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Feeds queued lazy columns to the background reader, one chunk in flight at a time. */
function runLoader(): void {
  const column = loadQueue[0];
  if (!column) {
    loaderRunning = false;
    return;
  }
  loaderRunning = true;
  column.loadStep((more) => {
    if (!more) loadQueue.shift();
    runLoader();
  });
}
