/** A bounded heap that keeps the k best (key, score) pairs without sorting everything. */

/** Keeps the k best entries; `higherIsBetter` for IP/COSINE, lower for L2. */
export class TopKHeap {
  private readonly keys: Float64Array;
  private readonly scores: Float64Array;
  private n = 0;
  // Internally a min-heap on "goodness": the root is the worst kept entry.
  private readonly sign: number;

  constructor(
    readonly k: number,
    higherIsBetter: boolean,
  ) {
    this.keys = new Float64Array(Math.max(1, k));
    this.scores = new Float64Array(Math.max(1, k));
    this.sign = higherIsBetter ? 1 : -1;
  }

  /** Number of kept entries. */
  get size(): number {
    return this.n;
  }

  /** Whether a score would enter the heap right now (cheap pre-check before computing more). */
  accepts(score: number): boolean {
    return this.n < this.k || score * this.sign > this.scores[0] * this.sign;
  }

  /** Offers one entry. */
  push(key: number, score: number): void {
    if (this.k === 0) return;
    const g = score * this.sign;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (this.scores[p] * this.sign <= g) break;
        this.keys[i] = this.keys[p];
        this.scores[i] = this.scores[p];
        i = p;
      }
      this.keys[i] = key;
      this.scores[i] = score;
      return;
    }
    if (g <= this.scores[0] * this.sign) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const c = r < this.n && this.scores[r] * this.sign < this.scores[l] * this.sign ? r : l;
      if (this.scores[c] * this.sign >= g) break;
      this.keys[i] = this.keys[c];
      this.scores[i] = this.scores[c];
      i = c;
    }
    this.keys[i] = key;
    this.scores[i] = score;
  }

  /** The kept entries, best first. */
  sorted(): { keys: number[]; scores: number[] } {
    const idx = Array.from({ length: this.n }, (_, i) => i);
    idx.sort((a, b) => (this.scores[b] - this.scores[a]) * this.sign);
    return { keys: idx.map((i) => this.keys[i]), scores: idx.map((i) => this.scores[i]) };
  }
}
