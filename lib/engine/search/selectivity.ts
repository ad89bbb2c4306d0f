/** Estimates how many rows a search filter (`accept`) passes, from a small spread-out sample. */

/** Rows sampled: enough to tell 1 % from 5 % reliably, cheap next to any search (~1 µs). */
export const SELECTIVITY_SAMPLE_ROWS = 256;
const GOLDEN = 0.6180339887498949;

/**
 * The fraction of `n` rows that `accept` passes, estimated on up to 256 rows picked by the
 * golden-ratio sequence (spread evenly, yet not an arithmetic progression that would alias with
 * periodic filters such as `id % 100 == 0`). `keyAt(row)` maps a row to the key `accept` takes.
 * Never returns 0: an empty sample still leaves up to ~1/(2·samples) of the rows possible.
 */
export function estimateSelectivity(n: number, accept: (key: number) => boolean, keyAt: (row: number) => number): number {
  if (n <= 0) return 0;
  const samples = Math.min(n, SELECTIVITY_SAMPLE_ROWS);
  let hits = 0;
  if (samples === n) {
    for (let r = 0; r < n; r++) if (accept(keyAt(r))) hits++;
    return Math.max(hits, 0.5) / n;
  }
  let x = 0.5;
  for (let i = 0; i < samples; i++) {
    x += GOLDEN;
    if (x >= 1) x -= 1;
    if (accept(keyAt(Math.floor(x * n)))) hits++;
  }
  return Math.max(hits, 0.5) / samples;
}
