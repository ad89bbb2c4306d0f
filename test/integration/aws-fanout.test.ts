/**
 * Reads fanned out over four querynodes on the emulators: each node serves its rendezvous share
 * of the segments (flushed, compacted and growing), the proxy reduces the shares, and the answers
 * equal those of one querynode serving every segment — also after a querynode dies and its share
 * moves to the others. Three nodes follow the WAL from the start (they seal every segment
 * themselves, under private ids); one starts late and loads flushed segments under the shared ids:
 * both kinds must cut and compact the same segments.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleRequest } from '../../lib/api/router.ts';
import { Compactor } from '../../lib/aws/compactor.ts';
import type { RunningQuerynode } from '../../lib/aws/querynode.ts';
import { QuerynodeRegistry } from '../../lib/aws/querynode-registry.ts';
import { ownerOf } from '../../lib/aws/querynode-view.ts';
import { httpShardClient } from '../../lib/adapters/http/shard-client.ts';
import { ShardUnavailableError } from '../../lib/engine/ports/shard-client.ts';
import { Catalog } from '../../lib/engine/catalog/catalog.ts';
import { segmentPlacementKey } from '../../lib/engine/segment-scope.ts';
import { PATH_TOKEN, callPath, okData, startAwsPath, type AwsPath } from '../support/aws-path-setup.ts';

const ENGINE = { sealRows: 40, idleSealMs: 600_000, compactionIntervalMs: 0 };
const NODES = ['qn-a', 'qn-b', 'qn-c'];
const vec = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(i / 3), Math.sin(i / 7)];
const rows = (from: number, to: number, tag = 'v1') => Array.from({ length: to - from }, (_, k) => ({ id: from + k, vector: vec(from + k), tag }));
const ids = (data: { id: number }[]) => data.map((r) => r.id);
const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

describe('reads fanned out over querynodes', () => {
  let path: AwsPath;
  const call = (route: string, body: unknown) => callPath(path.proxy, route, body);

  /** A querynode's own REST answer, over every segment it holds. */
  async function direct(node: RunningQuerynode, route: string, body: unknown): Promise<{ status: number; reply: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${PATH_TOKEN}`, 'content-type': 'application/json' };
    const res = await handleRequest(node.db, { method: 'POST', path: `/v2/vectordb/${route}`, headers, body: JSON.stringify(body) }, { token: PATH_TOKEN });
    return { status: res.status, reply: JSON.parse(res.body) };
  }

  /** Asserts that the proxy's answers equal those of `reference` serving every segment itself. */
  async function assertSameAsOneNode(reference: RunningQuerynode, when: string): Promise<void> {
    const search = { collectionName: 'fan', data: [vec(17), vec(123)], limit: 5, offset: 3, filter: 'id > 20', outputFields: ['tag'], consistencyLevel: 'Strong' };
    const expected = (await direct(reference, 'entities/search', search)).reply;
    okData(expected);
    assert.deepEqual(expected.topks, [5, 5], `${when}: the reference found 5 hits per vector`);
    assert.deepEqual(await call('entities/search', search), expected, `${when}: search (nq=2, offset 3, filter) equals one node's`);

    const all = { collectionName: 'fan', filter: 'id > 20', limit: 0, outputFields: ['tag'], consistencyLevel: 'Strong' };
    const matches = okData((await direct(reference, 'entities/query', all)).reply).sort(byId);
    assert.deepEqual(okData(await call('entities/query', all)), matches, `${when}: query of every match equals one node's, in key order`);
    const page = okData(await call('entities/query', { ...all, limit: 7, offset: 5 }));
    assert.deepEqual(page, matches.slice(5, 12), `${when}: query with offset 5 and limit 7 is that page of the matches in key order`);

    const count = { collectionName: 'fan', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' };
    assert.deepEqual(await call('entities/query', count), (await direct(reference, 'entities/query', count)).reply, `${when}: count(*) equals one node's`);

    const get = { collectionName: 'fan', id: [15, 0, 240, 999, 123, 5, 201, 15], outputFields: ['tag'], consistencyLevel: 'Strong' };
    const got = await call('entities/get', get);
    assert.deepEqual(got, (await direct(reference, 'entities/get', get)).reply, `${when}: get equals one node's (same rows, same order)`);
    assert.deepEqual(ids(got.data), [15, 240, 123, 5, 201], `${when}: get skips the deleted and missing ids`);

    for (const [route, body] of [
      ['collections/get_stats', { collectionName: 'fan' }],
      ['partitions/get_stats', { collectionName: 'fan', partitionName: '_default' }],
    ] as const) {
      assert.deepEqual(await call(route, body), (await direct(reference, route, body)).reply, `${when}: ${route} sums the shares to one node's figure`);
    }
  }

  before(async () => {
    path = await startAwsPath(ENGINE, { querynodes: NODES, querynode: { releaseIdleMs: 0 } });
    okData(await call('collections/create', { collectionName: 'fan', dimension: 4, metricType: 'L2', params: { shardsNum: 2 } }));
    // Flushed segments: four batches over two channels, sealed at 40 rows.
    for (let i = 0; i < 4; i++) okData(await call('entities/insert', { collectionName: 'fan', data: rows(i * 50, i * 50 + 50) }));
    okData(await call('collections/flush', { collectionName: 'fan' }));
    // Small flushed segments the compactor merges while the querynodes follow the WAL.
    for (let i = 0; i < 3; i++) {
      okData(await call('entities/insert', { collectionName: 'fan', data: rows(200 + i * 10, 210 + i * 10) }));
      okData(await call('collections/flush', { collectionName: 'fan' }));
    }
    await path.startQuerynode('qn-late');
    const compactor = await Compactor.open(path.stores(), ENGINE, path.indexer.trigger);
    try {
      const run = await compactor.run();
      assert.ok(run.compactions >= 1, `the compactor merged segments: ${JSON.stringify(run)}`);
    } finally {
      await compactor.close();
    }
    okData(await call('collections/flush', { collectionName: 'fan' }));
    // Flushed segments the querynodes seal themselves too (after the compaction).
    okData(await call('entities/insert', { collectionName: 'fan', data: rows(300, 380) }));
    okData(await call('collections/flush', { collectionName: 'fan' }));
    await path.indexer.idle();
    // Overwrites and deletes across segments, and growing rows that stay unflushed.
    okData(await call('entities/upsert', { collectionName: 'fan', data: rows(10, 20, 'v2') }));
    okData(await call('entities/delete', { collectionName: 'fan', filter: 'id in [0, 1, 2, 150, 205]' }));
    okData(await call('entities/insert', { collectionName: 'fan', data: rows(230, 250, 'growing') }));
  });

  after(async () => {
    await path?.close();
  });

  test('every querynode applied the compaction, also to segments it sealed itself under private ids', async () => {
    for (const node of path.nodes) {
      const info = await node.db.describeCollection('default', 'fan');
      const segments = [...node.db.runtimeById(info.collectionId)!.segments.values()];
      assert.ok(
        segments.some((s) => s.meta.compactedFrom !== undefined),
        `${node.id} holds the compaction output: ${segments.map((s) => s.id).join(', ')}`,
      );
    }
  });

  test('each querynode keeps only its share of the flushed segments in memory, together all of them', async () => {
    const fleet = path.nodes.map((n) => n.id);
    const info = await path.nodes[0].db.describeCollection('default', 'fan');
    const flushedOf = (node: RunningQuerynode) => [...node.db.runtimeById(info.collectionId)!.segments.values()].filter((s) => s.meta.state === 'Flushed');
    const misplaced = () =>
      path.nodes.flatMap((node) =>
        flushedOf(node)
          .filter((s) => s.resident !== (ownerOf(segmentPlacementKey(s.meta), fleet) === node.id))
          .map((s) => `${node.id}: ${segmentPlacementKey(s.meta)} resident=${s.resident}`),
      );
    // Each node re-reads the registry every 2 s and releases what it does not own (idle time 0 here).
    for (let i = 0; i < 150 && misplaced().length > 0; i++) await sleep(100);
    assert.deepEqual(misplaced(), [], 'every node holds exactly the flushed segments it owns under the live fleet');
    const keys = new Set(flushedOf(path.nodes[0]).map((s) => segmentPlacementKey(s.meta)));
    const resident = path.nodes.flatMap((node) =>
      flushedOf(node)
        .filter((s) => s.resident)
        .map((s) => segmentPlacementKey(s.meta)),
    );
    assert.deepEqual([...resident].sort(), [...keys].sort(), 'each flushed segment is in the memory of exactly one node');
    const released = path.nodes.reduce((n, node) => n + flushedOf(node).filter((s) => !s.resident).length, 0);
    assert.ok(keys.size > 0, 'there are flushed segments');
    assert.equal(released, keys.size * (path.nodes.length - 1), `the other ${path.nodes.length - 1} nodes keep each of the ${keys.size} flushed segments on disk only`);
    for (const node of path.nodes) {
      for (const seg of flushedOf(node).filter((s) => !s.resident)) {
        assert.equal(seg.indexes.size, 0, `${node.id}: segment ${segmentPlacementKey(seg.meta)} outside its share has no index open`);
      }
    }
  });

  test("each querynode's disk holds the vectors of its share only: outside it, segments it sealed itself read the datanode's chunks", async () => {
    const info = await path.nodes[0].db.describeCollection('default', 'fan');
    const sealedHere = (node: RunningQuerynode) =>
      [...node.db.runtimeById(info.collectionId)!.segments.values()].filter((s) => s.meta.state === 'Flushed' && s.id >= 1e12 && !s.resident).length;
    assert.ok(
      path.nodes.some((n) => sealedHere(n) > 0),
      'some segments outside a share were sealed by the querynode itself',
    );
    const misplaced = () =>
      path.nodes.flatMap((node) =>
        node.db
          .usage()
          .filter((u) => u.localSegments !== u.residentSegments)
          .map((u) => `${node.id}: ${JSON.stringify(u)}`),
      );
    for (let i = 0; i < 150 && misplaced().length > 0; i++) await sleep(100);
    assert.deepEqual(misplaced(), [], 'no node keeps vectors on disk for segments outside its share');
  });

  test("querynodes attach the indexer's files to the segments they own, also those they sealed themselves", async () => {
    const info = await path.nodes[0].db.describeCollection('default', 'fan');
    const sharedFiles = new Map<string, string | undefined>();
    for (const m of await new Catalog(path.stores().kv).listSegments(info.collectionId)) {
      if (m.state === 'Flushed') sharedFiles.set(segmentPlacementKey(m), m.indexFiles.vector);
    }
    assert.ok(
      [...sharedFiles.values()].every((f) => f !== undefined),
      `the indexer indexed every flushed segment: ${JSON.stringify([...sharedFiles])}`,
    );
    const unindexed = () =>
      path.nodes.flatMap((node) =>
        [...node.db.runtimeById(info.collectionId)!.segments.values()]
          .filter((s) => s.meta.state === 'Flushed' && s.resident && !(s.indexes.size === 1 && s.meta.indexFiles.vector === sharedFiles.get(segmentPlacementKey(s.meta))))
          .map((s) => `${node.id}: ${segmentPlacementKey(s.meta)} (id ${s.id}) has ${s.indexes.size} index(es), file ${s.meta.indexFiles.vector}`),
      );
    // Querynodes look for the indexer's file every 2 s (a safety timeout, not a timing assertion).
    for (let i = 0; i < 300 && unindexed().length > 0; i++) await sleep(100);
    assert.deepEqual(unindexed(), [], "every resident flushed segment has the indexer's index file attached");
  });

  test('index progress through the proxy sums the shares: Finished although no node indexes every segment', async () => {
    const count = (await call('entities/query', { collectionName: 'fan', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' })).data[0]['count(*)'];
    const [index] = okData(await call('indexes/describe', { collectionName: 'fan', indexName: 'vector' }));
    assert.equal(index.totalRows, count, 'every live row is counted once');
    assert.equal(index.indexState, 'Finished', `every flushed segment is indexed on the node that serves it: ${JSON.stringify(index)}`);
    assert.ok(index.indexedRows > 0 && index.pendingRows === index.totalRows - index.indexedRows, `growing rows are pending: ${JSON.stringify(index)}`);
    const [alone] = okData((await direct(path.nodes[0], 'indexes/describe', { collectionName: 'fan', indexName: 'vector' })).reply);
    assert.ok(alone.indexedRows < index.indexedRows, `one node alone indexes only its share (${alone.indexedRows} of ${index.indexedRows} rows)`);
  });

  test('a delete by filter through the proxy removes the rows every share matches', async () => {
    const matching = { collectionName: 'fan', filter: '(id >= 245 and id < 250) or (id >= 100 and id < 103)', outputFields: ['count(*)'], consistencyLevel: 'Strong' };
    assert.equal((await call('entities/query', matching)).data[0]['count(*)'], 8, 'the rows exist on several shares');
    okData(await call('entities/delete', { collectionName: 'fan', filter: matching.filter }));
    assert.equal((await call('entities/query', matching)).data[0]['count(*)'], 0, 'none is left');
  });

  test('search, query and get through the proxy equal one querynode serving every segment', async () => {
    await assertSameAsOneNode(path.nodes[0], 'four querynodes');
    await assertSameAsOneNode(path.nodes[3], 'four querynodes, the late one as reference');
  });

  test('each querynode serves a disjoint part of the rows under a view, together all of them', async () => {
    const view = path.nodes.map((n) => n.id);
    const all = { collectionName: 'fan', filter: 'id >= 0', limit: 0, consistencyLevel: 'Strong' };
    const total = ids(okData((await direct(path.nodes[0], 'entities/query', all)).reply));
    const target = { db: 'default', collection: 'fan', view };
    const request = { filter: 'id >= 0', consistencyLevel: 'Strong' as const };
    const seen = new Set<number>();
    let serving = 0;
    for (const node of path.nodes) {
      const shard = httpShardClient(node.id, node.url, PATH_TOKEN);
      const answer = await shard.query({ kind: 'query', ...target, request, count: false });
      const share = ('pks' in answer ? answer.pks : []).map(Number);
      assert.ok(share.length < total.length, `${node.id} serves ${share.length} of ${total.length} rows, not all`);
      if (share.length > 0) serving++;
      for (const id of share) {
        assert.ok(!seen.has(id), `row ${id} is served by ${node.id} and another node`);
        seen.add(id);
      }
      const count = await shard.query({ kind: 'query', ...target, request: { ...request, filter: '' }, count: true });
      assert.deepEqual(count, { count: share.length }, `${node.id}: its scoped count(*) counts its share`);
      assert.deepEqual(await shard.stats({ kind: 'stats', ...target }), { rowCount: share.length }, `${node.id}: its stats count its share`);
    }
    assert.ok(serving >= 2, `rows are spread over ${serving} querynodes`);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [...total].sort((a, b) => a - b),
      'the shares together are every row',
    );
  });

  test('a querynode exposes its metrics with the token: WAL bytes read, segments served and resident, local disk', async () => {
    const node = path.nodes[0];
    assert.equal((await fetch(`${node.url}/metrics`)).status, 401, 'the metrics need the token');
    const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${PATH_TOKEN}` } })).text();
    const sample = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(sample('migrans_wal_bytes_read_total') > 0, 'the node read the WAL');
    assert.ok(sample('migrans_local_disk_bytes') > 0, 'its local data is measured');
    assert.match(text, /migrans_flushed_segments\{[^}]*collection="fan"[^}]*\} [1-9]/);
    assert.match(text, /migrans_requests_total\{route="\/internal\/shard",outcome="ok",querynode="qn-a"\} [1-9]/, 'shard requests are counted');
  });

  test("every channel's owner lease is held by exactly one live querynode", async () => {
    const owned = async (node: RunningQuerynode) =>
      Number(/^migrans_owned_channels\{[^}]*\} (\d+)$/m.exec(await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${PATH_TOKEN}` } })).text())?.[1]);
    // Leases are taken on the residency timer (every 2 s); a safety timeout, not a timing assertion.
    let counts: number[] = [];
    for (let i = 0; i < 100; i++) {
      counts = await Promise.all(path.nodes.map(owned));
      if (counts.reduce((a, b) => a + b, 0) === 2) break;
      await sleep(100);
    }
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      2,
      `the collection's 2 channels are owned once in total: ${counts.join(', ')}`,
    );
  });

  test('a querynode reports ready without a token, and serves nothing else without one', async () => {
    const node = path.nodes[0];
    const ready = await fetch(`${node.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    const other = await fetch(`${node.url}/v2/vectordb/collections/list`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(other.status, 401, 'a REST route still needs the token');
    assert.equal((await fetch(`${node.url}/readyz`, { method: 'POST', body: '{}' })).status, 401, 'only GET of the readiness route is public');
  });

  test('a querynode refuses a view without its id, so the proxy does not lose its share silently', async () => {
    const shard = httpShardClient(path.nodes[0].id, path.nodes[0].url, PATH_TOKEN);
    await assert.rejects(
      shard.query({ kind: 'query', db: 'default', collection: 'fan', view: ['qn-x', 'qn-y'], request: { filter: 'id >= 0', limit: 5 }, count: false }),
      (err: Error) => err instanceof ShardUnavailableError && /HTTP 409/.test(err.message),
    );
  });

  test('after a querynode dies its segments are served by the others without losing or repeating rows', async () => {
    const dead = path.nodes[1];
    await path.stopQuerynode(dead, { handover: false });
    // Still registered (as when a process dies without leaving): the proxy finds out by calling it.
    await new QuerynodeRegistry(path.stores().kv).heartbeat(dead.id, dead.url);
    await assertSameAsOneNode(path.nodes[0], 'one querynode dead');
  });
});
