/**
 * The querynode fleet changing under load, on the emulators: Strong reads run without pause while a
 * querynode joins, one leaves and one dies without leaving, and every read answers, counting each
 * row once; a stopping querynode hands its share to the others before it leaves; upserts and deletes of rows spread over every node's segments are seen by the reads
 * exactly once, before and after they are flushed. The read latencies around each change are
 * reported as diagnostics (measured, not asserted: timing lives in benchmarks).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QuerynodeRegistry } from '../../lib/aws/querynode-registry.ts';
import { callPath, misplacedSegments, okData, residentSegments, startAwsPath, type AwsPath } from '../support/aws-path-setup.ts';

const ENGINE = { sealRows: 40, idleSealMs: 600_000, compactionIntervalMs: 0 };
const ROWS = 240;
const vec = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(i / 3), Math.sin(i / 7)];
const rows = (from: number, to: number, tag = 'v1') => Array.from({ length: to - from }, (_, k) => ({ id: from + k, vector: vec(from + k), tag }));
const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

/** Read latencies (ms) while a load loop ran, and the replies that were not what it expected. */
interface LoadResult {
  latencies: number[];
  failures: string[];
}

/** `p`-quantile of `xs` (nearest rank). */
const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const summary = (r: LoadResult) =>
  `${r.latencies.length} reads, p50 ${quantile(r.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(r.latencies, 0.99).toFixed(1)} ms, max ${Math.max(...r.latencies).toFixed(1)} ms`;

describe('the querynode fleet changing under load', () => {
  let path: AwsPath;
  const call = (route: string, body: unknown) => callPath(path.proxy, route, body);
  const strong = { collectionName: 'mem', consistencyLevel: 'Strong' };

  /**
   * Runs Strong reads back to back from two clients until `change` resolves: a count(*), a query of
   * every id, and a search whose top hit must be the row whose vector it searches. Every reply must
   * succeed and count `expected` rows.
   */
  async function underLoad(expected: number, change: () => Promise<void>): Promise<LoadResult> {
    const result: LoadResult = { latencies: [], failures: [] };
    let done = false;
    const client = async (seed: number) => {
      for (let i = seed; !done; i += 2) {
        const t0 = performance.now();
        const [count, all, hits] = await Promise.all([
          call('entities/query', { ...strong, filter: '', outputFields: ['count(*)'] }),
          call('entities/query', { ...strong, filter: 'id >= 0', limit: 0, outputFields: ['id'] }),
          call('entities/search', { ...strong, data: [vec(i % ROWS)], limit: 3, outputFields: ['id'] }),
        ]);
        result.latencies.push(performance.now() - t0);
        if (count.code !== 0 || all.code !== 0 || hits.code !== 0) result.failures.push(JSON.stringify([count, all, hits].find((r) => r.code !== 0)));
        else if (count.data[0]['count(*)'] !== expected) result.failures.push(`count(*) ${count.data[0]['count(*)']}, expected ${expected}`);
        else if (new Set(all.data.map((r: { id: number }) => r.id)).size !== expected || all.data.length !== expected) result.failures.push(`query found ${all.data.length} rows`);
        else if (hits.data[0]?.id !== i % ROWS) result.failures.push(`search for row ${i % ROWS} found ${JSON.stringify(hits.data[0])} first`);
      }
    };
    const clients = [client(0), client(1)];
    try {
      await change();
    } finally {
      done = true;
      await Promise.all(clients);
    }
    return result;
  }

  before(async () => {
    path = await startAwsPath(ENGINE, { querynodes: ['qn-a', 'qn-b'], querynode: { releaseIdleMs: 0 } });
    okData(await call('collections/create', { collectionName: 'mem', dimension: 4, metricType: 'L2', params: { shardsNum: 2 } }));
    for (let i = 0; i < ROWS / 40; i++) okData(await call('entities/insert', { collectionName: 'mem', data: rows(i * 40, i * 40 + 40) }));
    okData(await call('collections/flush', { collectionName: 'mem' }));
    await path.indexer.idle();
  });

  after(async () => {
    await path?.close();
  });

  test('a querynode joining while Strong reads run: every read answers and counts each row once', async (t) => {
    const load = await underLoad(ROWS, async () => {
      await sleep(500);
      await path.startQuerynode('qn-c');
      // The proxy re-reads the registry every 500 ms and the nodes re-read it every 2 s: let both see it.
      await sleep(3000);
    });
    t.diagnostic(`join: ${summary(load)}`);
    assert.deepEqual(load.failures, []);
    assert.ok(load.latencies.length >= 4, `reads ran during the join (${load.latencies.length})`);
  });

  test('a querynode leaving while Strong reads run: every read answers and counts each row once', async (t) => {
    const load = await underLoad(ROWS, async () => {
      await sleep(500);
      await path.stopQuerynode(path.nodes[0]);
      await sleep(3000);
    });
    t.diagnostic(`leave: ${summary(load)}`);
    assert.deepEqual(load.failures, []);
  });

  test('a querynode dying without leaving while Strong reads run: the reads fail over and count each row once', async (t) => {
    // Start a node to lose, so that two stay.
    await path.startQuerynode('qn-d');
    await sleep(2500);
    const dead = path.nodes.find((n) => n.id === 'qn-d')!;
    const load = await underLoad(ROWS, async () => {
      await sleep(500);
      await path.stopQuerynode(dead, { handover: false });
      // As a killed process: still in the registry until its heartbeat expires.
      await new QuerynodeRegistry(path.stores().kv).heartbeat(dead.id, dead.url);
      await sleep(3000);
    });
    t.diagnostic(`death: ${summary(load)}`);
    assert.deepEqual(load.failures, []);
  });

  test('a stopping querynode hands its share over: when it has left, the others hold its segments in memory, and reads load nothing', async () => {
    await path.startQuerynode('qn-e');
    const fleet = () => path.nodes.map((n) => n.id).sort();
    // Every node's memory follows the four-node fleet before one stops.
    for (let i = 0; i < 100 && (await misplacedSegments(path.nodes, 'mem', fleet(), 1)).length > 0; i++) await sleep(100);
    assert.deepEqual(await misplacedSegments(path.nodes, 'mem', fleet(), 1), []);
    const leaving = path.nodes.find((n) => n.id === 'qn-e')!;
    const held = [...(await residentSegments([leaving], 'mem')).get('qn-e')!].filter(([, resident]) => resident);
    assert.ok(held.length > 0, 'the stopping node holds segments');
    await path.stopQuerynode(leaving);
    assert.deepEqual(await misplacedSegments(path.nodes, 'mem', fleet(), 1), [], 'its segments are in the memory of their new holders as it leaves');
    const before = await residentSegments(path.nodes, 'mem');
    const count = okData(await call('entities/query', { ...strong, filter: '', outputFields: ['count(*)'] }));
    assert.deepEqual(count, [{ 'count(*)': ROWS }]);
    okData(await call('entities/search', { ...strong, data: [vec(5)], limit: 3 }));
    assert.deepEqual(await residentSegments(path.nodes, 'mem'), before, 'the reads after it left loaded nothing');
  });

  test('upserts and deletes of rows in every node’s segments are read exactly once, before and after a flush', async () => {
    const upserted = Array.from({ length: ROWS / 6 }, (_, k) => k * 6);
    const deleted = Array.from({ length: ROWS / 10 }, (_, k) => k * 10 + 3);
    okData(await call('entities/upsert', { collectionName: 'mem', data: upserted.map((id) => ({ id, vector: vec(id), tag: 'v2' })) }));
    okData(await call('entities/delete', { collectionName: 'mem', filter: `id in [${deleted.join(',')}]` }));
    const expected = rows(0, ROWS)
      .filter((r) => !deleted.includes(r.id))
      .map((r) => ({ id: r.id, tag: upserted.includes(r.id) ? 'v2' : 'v1' }));
    const check = async (when: string) => {
      const got = okData(await call('entities/query', { ...strong, filter: 'id >= 0', limit: 0, outputFields: ['tag'] })).sort(byId);
      assert.deepEqual(got, expected, `${when}: every row once, upserted ones with their new tag, deleted ones gone`);
      const v2 = okData(await call('entities/query', { ...strong, filter: 'tag == "v2"', outputFields: ['count(*)'] }));
      assert.deepEqual(v2, [{ 'count(*)': upserted.length }], `${when}: the new tag is counted once per upserted row`);
      const hits = okData(await call('entities/search', { ...strong, data: [vec(3)], limit: 1, outputFields: ['tag'] }));
      assert.notEqual(hits[0].id, 3, `${when}: a deleted row is never a search hit`);
      const six = okData(await call('entities/get', { ...strong, id: [6, 13, 7], outputFields: ['tag'] })).sort(byId);
      assert.deepEqual(
        six,
        [
          { id: 6, tag: 'v2' },
          { id: 7, tag: 'v1' },
        ],
        `${when}: get returns the new value, and nothing for a deleted row`,
      );
    };
    await check('in the growing data');
    okData(await call('collections/flush', { collectionName: 'mem' }));
    await path.indexer.idle();
    await check('after the flush');
  });
});
