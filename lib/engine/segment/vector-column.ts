/** Row-major storage of one FloatVector field of a segment, growable while the segment grows. */

/** Vectors of one field: row i is `data.subarray(i*dim, (i+1)*dim)`. */
export class VectorColumn {
  private buf: Float32Array;
  private rows = 0;

  /** Wraps existing flat data (sealed segments: zero-copy view over a decoded chunk), or starts empty. */
  constructor(readonly dim: number, data?: Float32Array) {
    this.buf = data ?? new Float32Array(dim * 64);
    this.rows = data ? data.length / dim : 0;
  }

  /** Number of rows. */
  get length(): number {
    return this.rows;
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
  }

  /** Row i as a view (do not keep it across pushes). */
  get(i: number): Float32Array {
    return this.buf.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** All rows, flat (a view). */
  data(): Float32Array {
    return this.buf.subarray(0, this.rows * this.dim);
  }
}
