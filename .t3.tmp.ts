import { buildHnswIndex } from './lib/adapters/vector/build-hnsw-in-worker.ts';
import { HnswVectorIndex } from './lib/adapters/vector/hnsw-vector-index.ts';
const dim = 16, n = Number(process.argv[2]);
const data = new Float32Array(n * dim); for (let i = 0; i < data.length; i++) data[i] = Math.sin(i);
const keys = new Uint32Array(n); for (let i = 0; i < n; i++) keys[i] = i;
const t = performance.now();
await buildHnswIndex(data, keys, { dim, metric: 'L2' }, '/tmp/t3.usearch');
console.log('built', (performance.now() - t).toFixed(0), 'ms', HnswVectorIndex.view('/tmp/t3.usearch', { dim, metric: 'L2' }).size(), 'data still usable', data.length);
