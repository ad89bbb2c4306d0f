/**
 * The AWS code path end to end on the emulators (DynamoDB Local, kinesis-mock, s3rver): API Gateway
 * events → the proxy → Kinesis → the ingest role (fed by a poller like the event source mapping) →
 * S3 and DynamoDB → querynodes → search. No mocks: the real AWS SDK against the emulators.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiProxy } from '../../lib/aws/api-proxy.ts';
import { Compactor } from '../../lib/aws/compactor.ts';
import { Datanode } from '../../lib/aws/datanode.ts';
import { encodeKinesisRecord } from '../../lib/adapters/aws/kinesis-record-format.ts';
import type { inProcessIndexerTrigger } from '../../lib/aws/indexer-trigger.ts';
import { ingestBatch, type IngestRecord } from '../../lib/aws/ingest-role.ts';
import { Catalog } from '../../lib/engine/catalog/catalog.ts';
import { PATH_TOKEN, callPath as call, okData as ok, startAwsPath, type AwsPath } from '../support/aws-path-setup.ts';

const ENGINE = { sealRows: 40, idleSealMs: 60_000, compactionIntervalMs: 0 };

const opened: { close(): Promise<void> }[] = [];
let awsPath: AwsPath;
const stores = () => awsPath.stores();

const text = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
const vec = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(i / 3), Math.sin(i / 7)];
const rows = (from: number, to: number, tag = 'v1') => Array.from({ length: to - from }, (_, k) => ({ id: from + k, vector: vec(from + k), tag }));

describe('the AWS path on emulators', () => {
  let proxy: ApiProxy;
  let indexer: ReturnType<typeof inProcessIndexerTrigger>;

  before(async () => {
    awsPath = await startAwsPath(ENGINE, { querynodes: ['qn-a', 'qn-b'] });
    proxy = awsPath.proxy;
    indexer = awsPath.indexer;
  });

  after(async () => {
    for (const o of opened) await o.close();
    await awsPath?.close();
  });

  test('writes through the API handler are searchable under Strong, and survive into S3 and DynamoDB', async () => {
    assert.equal((await call(proxy, 'collections/list', {}, 'wrong')).code, 1800, 'a wrong token is refused');
    ok(await call(proxy, 'collections/create', { collectionName: 'docs', dimension: 4, metricType: 'L2', params: { shardsNum: 2 } }));
    const ins = ok(await call(proxy, 'entities/insert', { collectionName: 'docs', data: rows(0, 100) }));
    assert.equal(ins.insertCount, 100);
    const hits = ok(await call(proxy, 'entities/search', { collectionName: 'docs', data: [vec(17)], limit: 3, outputFields: ['tag'], consistencyLevel: 'Strong' }));
    assert.equal(hits[0].id, 17);
    assert.equal(hits[0].tag, 'v1');
    // Overwrites and deletes are exact through the PK index on DynamoDB Local.
    ok(await call(proxy, 'entities/upsert', { collectionName: 'docs', data: rows(10, 30, 'v2') }));
    ok(await call(proxy, 'entities/delete', { collectionName: 'docs', filter: 'id in [0, 1, 2]' }));
    ok(await call(proxy, 'entities/delete', { collectionName: 'docs', filter: 'id >= 90' }));
    const count = ok(await call(proxy, 'entities/query', { collectionName: 'docs', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }));
    assert.equal(count[0]['count(*)'], 87);
    // Flush: the datanode seals and writes the segments to S3; the indexer builds their HNSW files.
    ok(await call(proxy, 'collections/flush', { collectionName: 'docs' }));
    await indexer.idle();
    const catalog = new Catalog(stores().kv);
    const info = (await catalog.listCollections()).find((c) => c.name === 'docs')!;
    const flushed = (await catalog.listSegments(info.collectionId)).filter((s) => s.state === 'Flushed');
    assert.ok(flushed.length >= 2, `segments flushed: ${flushed.length}`);
    assert.ok(
      flushed.every((s) => Object.keys(s.indexFiles).length === 1),
      'every flushed segment has its index file',
    );
    // A querynode started now knows the data only from S3, DynamoDB and the WAL after the checkpoints.
    const late = await awsPath.startQuerynode('qn-late');
    try {
      const res = await fetch(`${late.url}/v2/vectordb/entities/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PATH_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ collectionName: 'docs', filter: 'id in [5, 15, 95, 1]', outputFields: ['tag'], consistencyLevel: 'Strong' }),
      });
      const got = ok(await res.json());
      assert.deepEqual(
        got.map((r: any) => [r.id, r.tag]).sort((a: any, b: any) => a[0] - b[0]),
        [
          [5, 'v1'],
          [15, 'v2'],
        ],
      );
    } finally {
      await awsPath.stopQuerynode(late);
    }
  });

  test('the same Kinesis batch delivered twice leaves the state of delivering it once', async () => {
    ok(await call(proxy, 'collections/create', { collectionName: 'twice', dimension: 4, metricType: 'L2' }));
    ok(await call(proxy, 'entities/insert', { collectionName: 'twice', data: rows(0, 20) })); // below sealRows: stays unflushed
    ok(await call(proxy, 'entities/upsert', { collectionName: 'twice', data: rows(0, 10, 'v2') }));
    ok(await call(proxy, 'entities/query', { collectionName: 'twice', filter: 'id >= 0', limit: 1, consistencyLevel: 'Strong' }));
    await new Promise((r) => setTimeout(r, 500)); // the poller's datanode finishes its batch
    const catalog = new Catalog(stores().kv);
    const info = (await catalog.listCollections()).find((c) => c.name === 'twice')!;
    const before = text(await catalog.listSegments(info.collectionId));
    // Redeliver the channel's unflushed records (as the event source does after a timeout) to a fresh
    // container: it replays them from the checkpoint, twice.
    const channel = `c${info.collectionId}-0`;
    const wal = stores().wal;
    const from = (await catalog.getCheckpoint(channel)).position;
    const batch: IngestRecord[] = (await wal.read(channel, from, 100)).map((r) => ({
      data: Buffer.from(encodeKinesisRecord({ channel, epoch: 0, position: r.position, fragment: 0, fragments: 1 }, r.data)).toString('base64'),
      sequenceNumber: String(r.position + 1n),
    }));
    assert.ok(batch.length >= 2, `records to redeliver: ${batch.length}`);
    const fresh = await Datanode.open(stores(), ENGINE, indexer.trigger);
    opened.push(fresh);
    for (let i = 0; i < 2; i++) assert.deepEqual((await ingestBatch(fresh, batch, Date.now() + 60_000)).batchItemFailures, []);
    assert.equal(text(await catalog.listSegments(info.collectionId)), before);
    // The poller's datanode sees the lease moved on, reloads, and flushes exactly these rows.
    ok(await call(proxy, 'collections/flush', { collectionName: 'twice' }));
    const got = ok(await call(proxy, 'entities/query', { collectionName: 'twice', filter: 'id >= 0', outputFields: ['tag'], limit: 100, consistencyLevel: 'Strong' }));
    assert.equal(got.length, 20);
    assert.equal(got.filter((r: any) => r.tag === 'v2').length, 10);
    const flushedRows = (await catalog.listSegments(info.collectionId)).filter((m) => m.state === 'Flushed').reduce((n, m) => n + m.rowCount, 0);
    assert.equal(flushedRows, 30, 'the flushed segments hold the 20 inserts and 10 upserts once');
  });

  test('a querynode that stops is replaced by the next one without losing results', async () => {
    ok(await call(proxy, 'collections/create', { collectionName: 'failover', dimension: 4, metricType: 'L2' }));
    ok(await call(proxy, 'entities/insert', { collectionName: 'failover', data: rows(0, 50) }));
    const search = () => call(proxy, 'entities/search', { collectionName: 'failover', data: [vec(7)], limit: 5, consistencyLevel: 'Strong' });
    const first = ok(await search());
    await awsPath.stopQuerynode(awsPath.nodes[0]);
    const second = ok(await search());
    assert.deepEqual(
      second.map((h: any) => h.id),
      first.map((h: any) => h.id),
    );
  });

  test("with no compactor running, the ingest function's sweep seals an idle channel and its acknowledged rows reach S3", async () => {
    ok(await call(proxy, 'collections/create', { collectionName: 'idle', dimension: 4, metricType: 'L2', params: { shardsNum: 1 } }));
    ok(await call(proxy, 'entities/insert', { collectionName: 'idle', data: rows(0, 30) })); // under sealRows: stays growing
    const catalog = new Catalog(stores().kv);
    const info = (await catalog.listCollections()).find((c) => c.name === 'idle')!;
    const flushedRows = async () => (await catalog.listSegments(info.collectionId)).filter((m) => m.state === 'Flushed').reduce((n, m) => n + m.rowCount, 0);
    const sweeper = await Datanode.open(stores(), ENGINE, indexer.trigger);
    opened.push(sweeper);
    const mine = async (now: number) => (await sweeper.sweep(now)).find((r) => r.channel === `c${info.collectionId}-0`)!;
    const early = await mine(Date.now());
    assert.equal(early.sealed, false, 'written just now: not idle');
    assert.ok(early.unflushedRecords > 0);
    // As the schedule finds it a minute later (idleSealMs is 60 s here).
    const idle = await mine(Date.now() + 61_000);
    assert.equal(idle.sealed, true, JSON.stringify(idle));
    assert.ok(idle.checkpointAgeSeconds >= 60);
    // The flush record wakes the channel's datanode through the event source (the poller here).
    const deadline = Date.now() + 30_000;
    while ((await flushedRows()) < 30) {
      assert.ok(Date.now() < deadline, `the idle channel was not flushed: ${await flushedRows()} of 30 rows in flushed segments`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await flushedRows(), 30);
    let after = await mine(Date.now());
    while (after.unflushedRecords > 0 && Date.now() < deadline) after = (await new Promise((r) => setTimeout(r, 200)), await mine(Date.now()));
    assert.deepEqual([after.unflushedRecords, after.checkpointAgeSeconds], [0, 0], 'the checkpoint reached the tail');
  });

  test('the compactor merges small flushed segments and the datanode commits it exactly', async () => {
    ok(await call(proxy, 'collections/create', { collectionName: 'compact', dimension: 4, metricType: 'L2' }));
    for (let i = 0; i < 3; i++) {
      ok(await call(proxy, 'entities/insert', { collectionName: 'compact', data: rows(i * 10, i * 10 + 10) }));
      ok(await call(proxy, 'collections/flush', { collectionName: 'compact' }));
    }
    ok(await call(proxy, 'entities/delete', { collectionName: 'compact', filter: 'id in [3, 13]' }));
    const catalog = new Catalog(stores().kv);
    const info = (await catalog.listCollections()).find((c) => c.name === 'compact')!;
    const flushedBefore = (await catalog.listSegments(info.collectionId)).filter((s) => s.state === 'Flushed').length;
    const compactor = await Compactor.open(stores(), ENGINE, indexer.trigger);
    opened.push(compactor);
    const run = await compactor.run();
    assert.ok(run.compactions >= 1, JSON.stringify(run));
    // The commit record goes through the channel's datanode; a flush waits for it.
    ok(await call(proxy, 'collections/flush', { collectionName: 'compact' }));
    const flushedAfter = (await catalog.listSegments(info.collectionId)).filter((s) => s.state === 'Flushed').length;
    assert.ok(flushedAfter < flushedBefore, `${flushedBefore} → ${flushedAfter} flushed segments`);
    const got = ok(await call(proxy, 'entities/query', { collectionName: 'compact', filter: 'id >= 0', limit: 100, consistencyLevel: 'Strong' }));
    assert.deepEqual(
      got.map((r: any) => r.id).sort((a: number, b: number) => a - b),
      Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 3 && i !== 13),
    );
  });
});
