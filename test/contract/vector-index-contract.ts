/**
 * Contract suite of the VectorIndex port: every adapter (exact or approximate) must pass it.
 * Data comes from a seeded PRNG, so failures reproduce.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { MetricType, VectorHits, VectorIndex, VectorIndexParams } from '../../lib/engine/ports/vector-index.ts';
import { rng } from '../support/data.ts';

/** An adapter under test. */
export interface VectorIndexSubject {
  name: string;
  /** True when results must equal brute force exactly. */
  exact: boolean;
  create(params: VectorIndexParams): VectorIndex;
  /**
   * Opens a file written by `save`, memory-mapped where the adapter can. Querynodes also pass the
   * segment's raw vectors (row i = key i), which adapters may use for exact fallbacks.
   */
  open(path: string, params: VectorIndexParams, vectors?: Float32Array): VectorIndex;
}

/** `n` vectors of `dim` around `clusters` random centers, plus `q` queries from the same distribution. */
export function clusteredData(seed: number, n: number, dim: number, clusters: number, q: number): { data: Float32Array; queries: Float32Array[] } {
  const rnd = rng(seed);
  const centers: Float32Array[] = [];
  for (let c = 0; c < clusters; c++) centers.push(Float32Array.from({ length: dim }, () => rnd() * 2 - 1));
  const point = (out: Float32Array, off: number) => {
    const c = centers[Math.floor(rnd() * clusters)];
    for (let j = 0; j < dim; j++) out[off + j] = c[j] + (rnd() - 0.5) * 0.5;
  };
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) point(data, i * dim);
  const queries: Float32Array[] = [];
  for (let i = 0; i < q; i++) {
    const v = new Float32Array(dim);
    point(v, 0);
    queries.push(v);
  }
  return { data, queries };
}

/** Row offsets 0..n-1 (or `base + i`). */
export function offsets(n: number, base = 0): Uint32Array {
  const k = new Uint32Array(n);
  for (let i = 0; i < n; i++) k[i] = base + i;
  return k;
}

/** The Milvus score of row `r` for `query`, in double precision over the original vectors. */
export function referenceScore(metric: MetricType, data: Float32Array, r: number, query: Float32Array): number {
  const dim = query.length;
  let dot = 0,
    l2 = 0,
    na = 0,
    nb = 0;
  for (let j = 0; j < dim; j++) {
    const a = data[r * dim + j];
    const b = query[j];
    dot += a * b;
    l2 += (a - b) * (a - b);
    na += a * a;
    nb += b * b;
  }
  if (metric === 'L2') return l2;
  if (metric === 'IP') return dot;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Brute-force top-k (keys = `keys[row]`), best first, ties by key. */
export function bruteForce(
  metric: MetricType,
  data: Float32Array,
  keys: Uint32Array,
  query: Float32Array,
  k: number,
  accept?: (key: number) => boolean,
): { keys: number[]; scores: number[] } {
  const rows: { key: number; score: number }[] = [];
  for (let r = 0; r < keys.length; r++) {
    if (accept && !accept(keys[r])) continue;
    rows.push({ key: keys[r], score: referenceScore(metric, data, r, query) });
  }
  const sign = metric === 'L2' ? 1 : -1;
  rows.sort((a, b) => sign * (a.score - b.score) || a.key - b.key);
  const top = rows.slice(0, k);
  return { keys: top.map((x) => x.key), scores: top.map((x) => x.score) };
}

/** Fraction of the true top-k found. */
export function recall(hits: VectorHits, truth: number[]): number {
  const t = new Set(truth);
  let found = 0;
  for (const key of hits.keys) if (t.has(key)) found++;
  return found / truth.length;
}

/** Scores agree when within a small relative + absolute tolerance (float32 storage). */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-5 + 1e-5 * Math.abs(b);
}

/** Asserts hits are best-first for the metric. */
function assertOrdered(metric: MetricType, hits: VectorHits): void {
  for (let i = 1; i < hits.scores.length; i++) {
    if (metric === 'L2') assert.ok(hits.scores[i - 1] <= hits.scores[i], `L2 scores must ascend at ${i}: ${hits.scores}`);
    else assert.ok(hits.scores[i - 1] >= hits.scores[i], `${metric} scores must descend at ${i}: ${hits.scores}`);
  }
}

const METRICS: MetricType[] = ['L2', 'IP', 'COSINE'];

/** Registers the contract suite for one adapter. */
export function vectorIndexContract(subject: VectorIndexSubject): void {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-vi-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe(`VectorIndex contract: ${subject.name}`, () => {
    describe('basics', () => {
      it('counts rows added in several batches and returns their keys', () => {
        const dim = 8;
        const idx = subject.create({ dim, metric: 'L2' });
        assert.equal(idx.size(), 0);
        assert.equal(idx.search(new Float32Array(dim), 5).keys.length, 0);
        const { data } = clusteredData(1, 30, dim, 3, 0);
        idx.add(offsets(10, 100), data.subarray(0, 10 * dim));
        idx.add(offsets(20, 110), data.subarray(10 * dim));
        assert.equal(idx.size(), 30);
        const hits = idx.search(data.slice(5 * dim, 6 * dim), 1, { ef: 64 });
        assert.equal(hits.keys[0], 105);
        assert.ok(hits.scores[0] < 1e-6);
        const all = idx.search(data.slice(0, dim), 100, { ef: 100 });
        assert.equal(all.keys.length, 30);
        assert.deepEqual(
          [...all.keys].sort((a, b) => a - b),
          [...offsets(30, 100)],
        );
        idx.close();
      });
      it('k ≤ 0 gives no hits; a wrong query dimension or vector length is a clear error', () => {
        const idx = subject.create({ dim: 4, metric: 'IP' });
        idx.add(offsets(2), new Float32Array(8).fill(1));
        assert.equal(idx.search(new Float32Array(4), 0).keys.length, 0);
        assert.throws(() => idx.search(new Float32Array(3), 1), /4 floats, got 3/);
        assert.throws(() => idx.add(offsets(2), new Float32Array(7)), /8 floats, got 7/);
        idx.close();
      });
      it('is unusable after close', () => {
        const idx = subject.create({ dim: 2, metric: 'L2' });
        idx.close();
        assert.throws(() => idx.size(), /closed/);
      });
      it('rejects bad params', () => {
        assert.throws(() => subject.create({ dim: 0, metric: 'L2' }), /dim/);
        assert.throws(() => subject.create({ dim: 4, metric: 'HAMMING' as MetricType }), /metric/);
      });
    });

    for (const metric of METRICS) {
      describe(`metric ${metric}`, () => {
        it('scores are Milvus scores, best first', () => {
          const dim = 16;
          const { data, queries } = clusteredData(2, 300, dim, 5, 10);
          const keys = offsets(300);
          const idx = subject.create({ dim, metric });
          idx.add(keys, data);
          for (const q of queries) {
            const hits = idx.search(q, 10, { ef: 128 });
            assert.equal(hits.keys.length, 10);
            assertOrdered(metric, hits);
            for (let i = 0; i < hits.keys.length; i++) {
              const want = referenceScore(metric, data, hits.keys[i], q);
              assert.ok(close(hits.scores[i], want), `${metric} score of key ${hits.keys[i]}: ${hits.scores[i]} vs ${want}`);
            }
          }
          idx.close();
        });

        if (subject.exact) {
          it('equals brute force exactly (keys, order, scores), filtered or not, small and large', () => {
            for (const [n, dim] of [
              [200, 12],
              [3000, 32],
            ] as const) {
              const { data, queries } = clusteredData(3 + n, n, dim, 8, 8);
              const keys = offsets(n, 7);
              const idx = subject.create({ dim, metric });
              idx.add(keys, data);
              for (const q of queries) {
                for (const accept of [undefined, (k: number) => k % 3 !== 0, (k: number) => k % 97 === 0]) {
                  const hits = idx.search(q, 10, { accept });
                  const ref = bruteForce(metric, data, keys, q, 10, accept);
                  assert.deepEqual([...hits.keys], ref.keys, `n ${n} ${accept ? 'filtered' : ''}`);
                  ref.scores.forEach((s, i) => assert.ok(close(hits.scores[i], s), `score ${i}: ${hits.scores[i]} vs ${s}`));
                }
              }
              idx.close();
            }
          });
        }

        it('recall@10 ≥ 0.95 on 5,000 clustered vectors of dim 64, and ef raises recall', () => {
          const dim = 64;
          const { data, queries } = clusteredData(4, 5000, dim, 50, 100);
          const keys = offsets(5000);
          const idx = subject.create({ dim, metric, M: 16, efConstruction: 128 });
          idx.add(keys, data);
          const truth = queries.map((q) => bruteForce(metric, data, keys, q, 10).keys);
          const recallAt = (ef: number) => queries.reduce((s, q, i) => s + recall(idx.search(q, 10, { ef }), truth[i]), 0) / queries.length;
          const r16 = recallAt(16);
          const r64 = recallAt(64);
          const r200 = recallAt(200);
          assert.ok(r64 >= 0.95, `recall@10 at ef 64 is ${r64}`);
          assert.ok(r200 >= 0.95, `recall@10 at ef 200 is ${r200}`);
          assert.ok(r200 >= r16, `ef 200 recall ${r200} < ef 16 recall ${r16}`);
          if (subject.exact) assert.equal(r16, 1);
          idx.close();
        });

        it('accept returns only accepted keys, k of them when available (selectivity 50%, 1%, 0.1%)', () => {
          const dim = 32;
          const n = 4000;
          const { data, queries } = clusteredData(5, n, dim, 20, 10);
          const keys = offsets(n);
          const built = subject.create({ dim, metric });
          built.add(keys, data);
          const file = path.join(tmp, `${subject.name}-${metric}-accept.idx`);
          built.save(file);
          built.close();
          const idx = subject.open(file, { dim, metric }, data);
          for (const [mod, expected] of [
            [2, 10],
            [100, 10],
            [1000, 4],
          ] as const) {
            const accept = (k: number) => k % mod === 0;
            let sum = 0;
            for (const q of queries) {
              const hits = idx.search(q, 10, { ef: 64, accept, exactBelowSelectivity: 0.05 });
              assert.equal(hits.keys.length, expected, `selectivity 1/${mod}`);
              for (const k of hits.keys) assert.equal(k % mod, 0, `key ${k} was not accepted`);
              assertOrdered(metric, hits);
              sum += recall(hits, bruteForce(metric, data, keys, q, 10, accept).keys);
            }
            const avg = sum / queries.length;
            assert.ok(avg >= (subject.exact ? 1 : 0.9), `filtered recall at 1/${mod} is ${avg}`);
          }
          assert.equal(idx.search(queries[0], 10, { accept: () => false }).keys.length, 0);
          idx.close();
        });

        it('save then open returns identical results', () => {
          const dim = 24;
          const { data, queries } = clusteredData(6, 1500, dim, 10, 20);
          const keys = offsets(1500, 3);
          const idx = subject.create({ dim, metric });
          idx.add(keys, data);
          const file = path.join(tmp, `${subject.name}-${metric}.idx`);
          idx.save(file);
          const reopened = subject.open(file, { dim, metric }); // no raw vectors: the very same search paths
          assert.equal(reopened.size(), 1500);
          for (const q of queries) {
            for (const opts of [{ ef: 32 }, { ef: 32, accept: (k: number) => k % 5 === 0 }]) {
              const a = idx.search(q, 10, opts);
              const b = reopened.search(q, 10, opts);
              assert.equal(b.keys.length, 10);
              assert.deepEqual([...b.keys], [...a.keys]);
              assert.deepEqual([...b.scores], [...a.scores]);
            }
          }
          idx.close();
          reopened.close();
        });
      });
    }
  });
}
