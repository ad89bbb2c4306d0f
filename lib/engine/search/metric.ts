/** Milvus distance conventions and exact scoring. */
import type { MetricType } from '../ports/vector-index.ts';

/** IP and COSINE rank descending (similarities); L2 ranks ascending (squared distance). */
export function higherIsBetter(metric: MetricType): boolean {
  return metric !== 'L2';
}

/**
 * Milvus's score of vector `v` (at `offset` in a flat array) for query `q`. COSINE takes the norm
 * of `q` and the squared norm of `v` precomputed (VectorColumn.squaredNorms), so every metric costs
 * one pass over the dimensions.
 */
export function score(metric: MetricType, q: Float32Array, data: Float32Array, offset: number, qNorm: number, vSquaredNorm: number): number {
  const dim = q.length;
  if (metric === 'L2') {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const d = q[j] - data[offset + j];
      s += d * d;
    }
    return s;
  }
  let dot = 0;
  for (let j = 0; j < dim; j++) dot += q[j] * data[offset + j];
  if (metric === 'IP') return dot;
  return vSquaredNorm === 0 || qNorm === 0 ? 0 : dot / (Math.sqrt(vSquaredNorm) * qNorm);
}

/** Euclidean norm. */
export function norm(q: Float32Array): number {
  let s = 0;
  for (let j = 0; j < q.length; j++) s += q[j] * q[j];
  return Math.sqrt(s);
}

/** Whether score `a` ranks before `b`. */
export function better(metric: MetricType, a: number, b: number): boolean {
  return metric === 'L2' ? a < b : a > b;
}
