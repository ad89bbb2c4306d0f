import { buildHnswIndex } from './lib/adapters/vector/build-hnsw-in-worker.ts';
import { HnswVectorIndex } from './lib/adapters/vector/hnsw-vector-index.ts';
import { FlatVectorIndex } from './lib/adapters/vector/flat-vector-index.ts';
import { clusteredData, offsets } from './test/contract/vector-index-contract.ts';
import { decodeColumn, encodeVectors } from './lib/engine/codec/column-codec.ts';
const dim = 128, n = 100_000;
const { data, queries } = clusteredData(7, n, dim, 100, 300);
const keys = offsets(n);
const params = { dim, metric: 'L2' as const, M: 16, efConstruction: 128 };
let ticks = 0; const iv = setInterval(() => ticks++, 10);
let t = performance.now();
await buildHnswIndex(data, keys, params, '/tmp/bench100k.usearch');
const buildMs = performance.now() - t; clearInterval(iv);
console.log(`worker build 100k×128 M16 efC128 (2 threads): ${buildMs.toFixed(0)} ms; 10ms timer ticks during build: ${ticks} of ~${(buildMs / 10).toFixed(0)}`);
const bytes = encodeVectors(data, dim);
t = performance.now(); for (let i = 0; i < 100; i++) decodeColumn(bytes); console.log(`decodeColumn 100k×128 vectors: ${((performance.now() - t) / 100).toFixed(3)} ms`);
const col = decodeColumn(bytes);
const idx = HnswVectorIndex.view('/tmp/bench100k.usearch', params, { vectors: col.vectors! });
const plain = HnswVectorIndex.view('/tmp/bench100k.usearch', params);
const flat = FlatVectorIndex.fromVectors(params, keys, data);
const truth = queries.slice(0, 100).map((q) => new Set(flat.search(q, 10).keys));
for (const ef of [16, 32, 64, 128, 256]) {
  for (let rep = 0; rep < 2; rep++) {
    t = performance.now(); for (const q of queries) plain.search(q, 10, { ef }); const ms = performance.now() - t;
    let hit = 0; queries.slice(0, 100).forEach((q, i) => { for (const k of plain.search(q, 10, { ef }).keys) if (truth[i].has(k)) hit++; });
    if (rep === 1) console.log(`hnsw ef ${ef}: ${(queries.length / ms * 1000).toFixed(0)} QPS (1 thread, k 10), recall@10 ${(hit / 1000).toFixed(3)}`);
  }
}
for (const sel of [0.001, 0.01, 0.1, 0.3, 0.5, 0.9]) {
  const mod = Math.round(1 / sel);
  const acc = (k: number) => k % mod === 0;
  const qs = queries.slice(0, 50);
  t = performance.now(); for (const q of qs) plain.search(q, 10, { ef: 64, accept: acc }); const a = (performance.now() - t) / qs.length;
  t = performance.now(); for (const q of qs) idx.search(q, 10, { ef: 64, accept: acc }); const b = (performance.now() - t) / qs.length;
  t = performance.now(); for (const q of qs) flat.search(q, 10, { accept: acc }); const c = (performance.now() - t) / qs.length;
  console.log(`filtered sel ${sel}: hnsw over-fetch ${a.toFixed(2)} ms, hnsw+vectors ${b.toFixed(2)} ms, flat ${c.toFixed(2)} ms`);
}
for (const rows of [10_000, 100_000]) {
  const sub = data.subarray(0, rows * dim);
  const native = FlatVectorIndex.fromVectors(params, offsets(rows), sub);
  const host = new Float32Array(rows * dim + 1); host.set(sub, 1);
  const jsOnly = FlatVectorIndex.fromVectors(params, offsets(rows), host.subarray(1));
  for (const [name, ix] of [['exactSearch', native], ['JS loop', jsOnly]] as const) {
    for (let rep = 0; rep < 2; rep++) { t = performance.now(); for (const q of queries.slice(0, 100)) ix.search(q, 10); if (rep) console.log(`flat ${rows}×128 unfiltered ${name}: ${((performance.now() - t) / 100).toFixed(3)} ms/query`); }
  }
}
t = performance.now(); const ip = HnswVectorIndex.create(params); ip.add(keys, data, 2); console.log(`in-process build (2 threads): ${(performance.now() - t).toFixed(0)} ms`);
