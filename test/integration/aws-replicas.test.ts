/**
 * Segment replicas on the emulators: with `replicas` 2 over three querynodes, each flushed segment
 * is resident on exactly its two holders, reads spread over them answer what one node serving every
 * segment answers, and when a querynode dies (still registered) its segments are served by their
 * other holder, which already has them in memory: nothing is loaded inside the request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleRequest } from '../../lib/api/router.ts';
import type { RunningQuerynode } from '../../lib/aws/querynode.ts';
import { QuerynodeRegistry } from '../../lib/aws/querynode-registry.ts';
import { PATH_TOKEN, callPath, misplacedSegments, okData, residentSegments, startAwsPath, type AwsPath } from '../support/aws-path-setup.ts';

const ENGINE = { sealRows: 40, idleSealMs: 600_000, compactionIntervalMs: 0 };
const NODES = ['qn-a', 'qn-b', 'qn-c'];
const REPLICAS = 2;
const vec = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(i / 3), Math.sin(i / 7)];
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ id: from + k, vector: vec(from + k), tag: `t${from + k}` }));

describe('sealed segments held by two querynodes each', () => {
  let path: AwsPath;
  const call = (route: string, body: unknown) => callPath(path.proxy, route, body);
  const fleet = () => path.nodes.map((n) => n.id);

  /** A querynode's own REST answer over every segment it holds. */
  async function direct(node: RunningQuerynode, route: string, body: unknown): Promise<any> {
    const headers = { authorization: `Bearer ${PATH_TOKEN}`, 'content-type': 'application/json' };
    const res = await handleRequest(node.db, { method: 'POST', path: `/v2/vectordb/${route}`, headers, body: JSON.stringify(body) }, { token: PATH_TOKEN });
    return JSON.parse(res.body);
  }

  const residency = () => residentSegments(path.nodes, 'rep');
  const misplaced = (members: string[]) => misplacedSegments(path.nodes, 'rep', members, REPLICAS);

  const searches = Array.from({ length: 12 }, (_, i) => ({
    collectionName: 'rep',
    data: [vec(i * 17)],
    limit: 7,
    filter: 'id > 5',
    outputFields: ['tag'],
    consistencyLevel: 'Strong',
  }));
  const all = { collectionName: 'rep', filter: 'id >= 0', limit: 0, outputFields: ['tag'], consistencyLevel: 'Strong' };
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  /** What one node serving every segment answers (it loads every segment: taken before the residency is checked). */
  const expected: { searches: unknown[]; rows: unknown[] } = { searches: [], rows: [] };

  /** Asserts that searches and queries through the proxy (each picking a replica at random) equal `expected`. */
  async function assertSameAsOneNode(when: string): Promise<void> {
    for (const [i, search] of searches.entries()) assert.deepEqual(await call('entities/search', search), expected.searches[i], `${when}: search ${i} equals one node's`);
    for (let i = 0; i < 4; i++) {
      const got = okData(await call('entities/query', all));
      assert.equal(got.length, 240, `${when}: query ${i} finds each row once`);
      assert.deepEqual(got.sort(byId), expected.rows, `${when}: query ${i} equals one node's`);
    }
    assert.deepEqual(okData(await call('collections/get_stats', { collectionName: 'rep' })), { rowCount: 240 }, `${when}: stats count each row once`);
  }

  before(async () => {
    path = await startAwsPath(ENGINE, { querynodes: NODES, replicas: REPLICAS, querynode: { releaseIdleMs: 0 } });
    okData(await call('collections/create', { collectionName: 'rep', dimension: 4, metricType: 'L2', params: { shardsNum: 2 } }));
    for (let i = 0; i < 6; i++) okData(await call('entities/insert', { collectionName: 'rep', data: rows(i * 40, i * 40 + 40) }));
    okData(await call('collections/flush', { collectionName: 'rep' }));
    await path.indexer.idle();
    for (const search of searches) expected.searches.push(await direct(path.nodes[0], 'entities/search', search));
    expected.rows = okData(await direct(path.nodes[0], 'entities/query', all)).sort(byId);
  });

  after(async () => {
    await path?.close();
  });

  test('each flushed segment is resident on exactly its two holders', async () => {
    // Nodes re-read the registry every 2 s and release what they do not hold (idle time 0 here).
    for (let i = 0; i < 150 && (await misplaced(fleet())).length > 0; i++) await sleep(100);
    assert.deepEqual(await misplaced(fleet()), [], 'residency follows the holders under the live fleet');
    const copies = new Map<string, number>();
    for (const segments of (await residency()).values()) for (const [key, resident] of segments) if (resident) copies.set(key, (copies.get(key) ?? 0) + 1);
    assert.ok(copies.size >= 4, `there are flushed segments: ${[...copies.keys()].join(', ')}`);
    for (const [key, n] of copies) assert.equal(n, REPLICAS, `${key} is in the memory of ${n} nodes`);
  });

  test('reads spread over the replicas answer what one node serving every segment answers', async () => {
    await assertSameAsOneNode('three nodes');
  });

  test('after a querynode dies, its segments are served by their other holder, which loads nothing', async () => {
    const members = fleet();
    const dead = path.nodes[1];
    await path.stopQuerynode(dead, { handover: false });
    // Still registered (as when a process dies without leaving): the proxy finds out by calling it.
    await new QuerynodeRegistry(path.stores().kv).heartbeat(dead.id, dead.url);
    // A survivor or the proxy that read the registry between the leave and the heartbeat saw a fleet
    // without it: let the proxy's cached registry (500 ms) expire and the survivors settle again.
    await sleep(1000);
    for (let i = 0; i < 150 && (await misplaced(members)).length > 0; i++) await sleep(100);
    assert.deepEqual(await misplaced(members), [], 'each surviving holder holds its segments, nothing else');
    const before = await residency();
    await assertSameAsOneNode('one of three dead');
    assert.deepEqual(await residency(), before, "the survivors served the dead node's segments from memory: no segment was loaded");
  });
});
