/**
 * Crashes on the AWS code path, on the emulators (DynamoDB Local, kinesis-mock, s3rver; the real
 * AWS SDK, no mocks): the ingest role SIGKILLed mid-batch and the batch delivered again, and a
 * querynode SIGKILLed while the other one takes over. Only what a user sees through the proxy is
 * asserted, plus that redelivery converges.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { defaultKinesisClient } from '../../lib/adapters/aws/kinesis-wal.ts';
import { ApiProxy } from '../../lib/aws/api-proxy.ts';
import { Datanode } from '../../lib/aws/datanode.ts';
import { inProcessIndexerTrigger } from '../../lib/aws/indexer-trigger.ts';
import { ingestBatch, type IngestRecord } from '../../lib/aws/ingest-role.ts';
import { startKinesisPoller } from '../../lib/aws/kinesis-poller.ts';
import { startQuerynode } from '../../lib/aws/querynode.ts';
import { QuerynodeRegistry } from '../../lib/aws/querynode-registry.ts';
import { Catalog } from '../../lib/engine/catalog/catalog.ts';
import type { KvStore } from '../../lib/engine/ports/kv-store.ts';
import { PkIndex } from '../../lib/engine/pk-index.ts';
import { callPath, okData as ok, PATH_TOKEN } from '../support/aws-path-setup.ts';
import { startAwsStack, type AwsStack } from '../support/aws-stack.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Small segments, so the batch seals and flushes many times while it is applied. */
const ENGINE = { sealRows: 300, idleSealMs: 600_000, compactionIntervalMs: 0 };
/** Safety net for waits on child processes and polls (never an assertion). */
const WAIT_MS = 90_000;

const vec = (i: number) => [Math.cos(i), Math.sin(i), Math.cos(i / 3), Math.sin(i / 7)];
const rows = (from: number, to: number, tag: string) => Array.from({ length: to - from }, (_, k) => ({ id: from + k, vector: vec(from + k), tag }));
const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

/** A child process with its output kept for failure messages. */
interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

describe('crashes on the AWS path', () => {
  let stack: AwsStack;
  let proxy: ApiProxy;
  let indexer: ReturnType<typeof inProcessIndexerTrigger>;
  const children: Child[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-aws-crash-'));

  /** Spawns `node --import tsx <script>` with the stack's environment plus `env`. */
  function spawnChild(script: string, env: Record<string, string>): Child {
    const proc = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...stack.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const child = { proc, output: () => out, exited };
    children.push(child);
    return child;
  }

  /** Resolves with the first match of `pattern` in the child's output; rejects if it exits first. */
  async function waitForLine(child: Child, pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const m = pattern.exec(child.output());
      if (m) return m;
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`the child exited before printing ${pattern}; output:\n${child.output()}`);
      if (Date.now() > deadline) throw new Error(`the child did not print ${pattern} within ${WAIT_MS} ms; output:\n${child.output()}`);
      await sleep(20);
    }
  }

  async function kill(child: Child): Promise<void> {
    child.proc.kill('SIGKILL');
    await child.exited;
  }

  const call = (route: string, body: unknown) => callPath(proxy, route, body);

  before(async () => {
    // One Kinesis shard: one batch of the event source wakes both channels of a collection.
    stack = await startAwsStack(ENGINE, { shards: 1 });
    indexer = inProcessIndexerTrigger(stack.stores());
    proxy = await ApiProxy.open(stack.stores(), { token: PATH_TOKEN, config: ENGINE, indexSegment: indexer.trigger });
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) await kill(c);
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await indexer?.idle();
    await stack?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the ingest role killed mid-batch, twice, and the batch delivered again: no row lost, none duplicated', async () => {
    // A FLAT index: searches are exact (a duplicate would show deterministically) and no HNSW builds
    // compete for the CPU with the crashes under test.
    ok(
      await call('collections/create', {
        collectionName: 'ingest',
        schema: {
          fields: [
            { fieldName: 'id', dataType: 'Int64', isPrimary: true },
            { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: 4 } },
            { fieldName: 'tag', dataType: 'VarChar', elementTypeParams: { max_length: 8 } },
          ],
        },
        indexParams: [{ fieldName: 'vector', indexName: 'vector', indexType: 'FLAT', metricType: 'L2' }],
        params: { shardsNum: 2 },
      }),
    );
    // The latest value of every key, as the user wrote it.
    const expected = new Map<number, string>();
    const write = async (route: 'insert' | 'upsert', from: number, to: number, tag: string) => {
      for (let i = from; i < to; i += 100) {
        ok(await call(`entities/${route}`, { collectionName: 'ingest', data: rows(i, Math.min(i + 100, to), tag) }));
        for (let id = i; id < Math.min(i + 100, to); id++) expected.set(id, tag);
      }
    };
    await write('insert', 0, 3000, 'v1');
    await write('upsert', 500, 900, 'v2');
    await write('upsert', 800, 850, 'v3'); // keys overwritten twice in the batch
    // Deletes by filter are resolved by a querynode; this one goes away before the crashes.
    const writer = await startQuerynode({
      stores: stack.stores(),
      dataDir: path.join(tmp, 'qn-writer'),
      host: '127.0.0.1',
      port: 0,
      token: PATH_TOKEN,
      config: ENGINE,
      id: 'qn-writer',
    });
    try {
      const seen = ok(await call('entities/query', { collectionName: 'ingest', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }));
      assert.equal(seen[0]['count(*)'], 3000, 'the writer querynode sees every insert before deleting by filter');
      ok(await call('entities/delete', { collectionName: 'ingest', filter: 'id >= 1000 and id < 1050' }));
      ok(await call('entities/delete', { collectionName: 'ingest', filter: 'id in [850, 851, 852]' }));
    } finally {
      await writer.close();
    }
    for (let id = 1000; id < 1050; id++) expected.delete(id);
    for (const id of [850, 851, 852]) expected.delete(id);
    await write('upsert', 1000, 1010, 'v4'); // deleted keys written again
    const deleted = Array.from({ length: 3000 }, (_, id) => id).filter((id) => !expected.has(id));
    const rowsWritten = 3000 + 400 + 50 + 10;

    // The batch the event source delivers: every record of the stream's only shard.
    const batch = await readShard(stack.config.stream);
    assert.ok(batch.length >= 40, `the batch holds many records: ${batch.length}`);
    const batchFile = path.join(tmp, 'batch.json');
    fs.writeFileSync(batchFile, JSON.stringify(batch));

    const kv = stack.stores().kv;
    const catalog = new Catalog(kv);
    const info = (await catalog.listCollections()).find((c) => c.name === 'ingest')!;
    const flushedRows = async () => (await catalog.listSegments(info.collectionId)).filter((s) => s.state === 'Flushed').reduce((n, s) => n + s.rowCount, 0);

    // Runs the batch in a child (a Lambda container) and SIGKILLs it once `flushed` rows are flushed
    // to S3 and committed in DynamoDB (seen from outside); returns the flushed rows at the kill.
    const crashAt = async (label: string, flushed: number): Promise<number> => {
      const child = spawnChild(path.join(ROOT, 'test/support/ingest-child.ts'), { MIGRANS_TEST_BATCH: batchFile, TMPDIR: fs.mkdtempSync(path.join(tmp, `${label}-`)) });
      await waitForLine(child, /^opened$/m);
      const deadline = Date.now() + WAIT_MS;
      let now = 0;
      while ((now = await flushedRows()) < flushed) {
        assert.ok(!/^done /m.test(child.output()), `the ${label} ingest child finished the batch before ${flushed} rows were flushed (${now}); output:\n${child.output()}`);
        assert.ok(Date.now() < deadline, `the ${label} ingest child flushed only ${now} rows in ${WAIT_MS} ms; output:\n${child.output()}`);
        await sleep(10);
      }
      await kill(child);
      assert.equal(child.proc.signalCode, 'SIGKILL', `the ${label} ingest child was killed, not finished; output:\n${child.output()}`);
      return flushedRows();
    };
    // Early: once the first segment is flushed. Late: in a second attempt (the event source retries),
    // once most of the batch is flushed.
    const early = await crashAt('early', 1);
    const late = await crashAt('late', Math.ceil(rowsWritten * 0.6));

    // The event source retries the batch; a fresh container applies it.
    const deliver = async () => {
      const node = await Datanode.open(stack.stores(), ENGINE, indexer.trigger);
      try {
        assert.deepEqual((await ingestBatch(node, batch, Date.now() + WAIT_MS)).batchItemFailures, [], 'the redelivered batch is applied without failures');
      } finally {
        await node.close();
      }
      await indexer.idle();
    };
    await deliver();
    const final = await flushedRows();
    assert.ok(early < final && late < final, `both kills landed mid-batch: ${early} and ${late} of ${final} flushed rows`);
    assert.ok(final <= rowsWritten, `the flushed segments hold each written row at most once: ${final} of ${rowsWritten}`);

    // A querynode started now knows the data only from S3, DynamoDB and the WAL after the checkpoints.
    const reader = await startQuerynode({
      stores: stack.stores(),
      dataDir: path.join(tmp, 'qn-reader'),
      host: '127.0.0.1',
      port: 0,
      token: PATH_TOKEN,
      config: ENGINE,
      id: 'qn-reader',
    });
    try {
      const visible = await readAll(call, 'ingest', expected, deleted);
      assert.deepEqual(visible, expectedState(expected), 'after the crashes every key holds its latest value, once');

      // Delivered a third time, the batch changes nothing: the shared state has converged.
      const state = await sharedState(kv, info.collectionId, 3000);
      await deliver();
      assert.deepEqual(await sharedState(kv, info.collectionId, 3000), state, 'a third delivery leaves the catalog, checkpoints and PK index as they were');
      assert.deepEqual(await readAll(call, 'ingest', expected, deleted), visible, 'a third delivery changes no result');
    } finally {
      await reader.close(); // leaves the registry: the next test counts on its own querynodes only
    }
  });

  test('a querynode killed with SIGKILL: the other one answers at once, the same results, and takes new writes', async () => {
    const nodes = [0, 1].map((i) =>
      spawnChild(path.join(ROOT, 'bin/querynode.ts'), { MIGRANS_HOST: '127.0.0.1', MIGRANS_QUERYNODE_PORT: '0', MIGRANS_DATA_DIR: path.join(tmp, `qn-process-${i}`) }),
    );
    const ids = await Promise.all(nodes.map(async (n) => (await waitForLine(n, /migrans querynode (\S+) serving at/))[1]));
    // The ingest path runs now (fed as the event source does), so the querynodes serve flushed
    // segments from S3 as well as growing rows from the WAL.
    const datanode = await Datanode.open(stack.stores(), ENGINE, indexer.trigger);
    const poller = await startKinesisPoller({ streamName: stack.config.stream, handle: (batch) => ingestBatch(datanode, batch, Date.now() + WAIT_MS) });
    cleanups.push(async () => {
      await poller.stop();
      await datanode.close();
    });
    ok(await call('collections/create', { collectionName: 'failover', dimension: 4, metricType: 'L2', params: { shardsNum: 2 } }));
    ok(await call('entities/insert', { collectionName: 'failover', data: rows(0, 700, 'v1') }));
    ok(await call('collections/flush', { collectionName: 'failover' }));
    ok(await call('entities/upsert', { collectionName: 'failover', data: rows(0, 20, 'v2') }));
    ok(await call('entities/insert', { collectionName: 'failover', data: rows(700, 800, 'v1') }));
    const reads = async () => ({
      search: ok(await call('entities/search', { collectionName: 'failover', data: [vec(7), vec(450), vec(750)], limit: 5, outputFields: ['tag'], consistencyLevel: 'Strong' })),
      query: ok(await call('entities/query', { collectionName: 'failover', filter: 'id < 40', outputFields: ['tag'], limit: 100, consistencyLevel: 'Strong' })).sort(byId),
      count: ok(await call('entities/query', { collectionName: 'failover', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }))[0]['count(*)'],
      get: ok(await call('entities/get', { collectionName: 'failover', id: [3, 33, 299, 750], outputFields: ['tag'], consistencyLevel: 'Strong' })).sort(byId),
    });
    const before = await reads();
    assert.equal(before.count, 800, 'every row is counted once');
    assert.deepEqual(
      before.get.map((r: any) => [r.id, r.tag]),
      [
        [3, 'v2'],
        [33, 'v1'],
        [299, 'v1'],
        [750, 'v1'],
      ],
      'get returns the latest values',
    );

    // Kill one node (every read fans out over all of them). Its registry entry stays until its heartbeat expires.
    const registry = new QuerynodeRegistry(stack.stores().kv);
    const victimId = ids[0];
    await kill(nodes[0]);
    assert.ok(
      (await registry.live()).some((n) => n.id === victimId),
      'the killed querynode is still registered',
    );
    for (let i = 0; i < 5; i++) assert.deepEqual(await reads(), before, `read ${i + 1} after the kill answers as before`);

    // The survivor applies new writes from the WAL itself and reads them Strong.
    ok(await call('entities/insert', { collectionName: 'failover', data: rows(800, 900, 'v3') }));
    ok(await call('entities/upsert', { collectionName: 'failover', data: rows(33, 34, 'v4') }));
    const count = ok(await call('entities/query', { collectionName: 'failover', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }))[0]['count(*)'];
    assert.equal(count, 900, 'the survivor counts the new rows once');
    const got = ok(await call('entities/get', { collectionName: 'failover', id: [33, 850, 899], outputFields: ['tag'], consistencyLevel: 'Strong' })).sort(byId);
    assert.deepEqual(
      got.map((r: any) => [r.id, r.tag]),
      [
        [33, 'v4'],
        [850, 'v3'],
        [899, 'v3'],
      ],
      'the survivor returns the new values',
    );
    const hits = ok(await call('entities/search', { collectionName: 'failover', data: [vec(850)], limit: 3, consistencyLevel: 'Strong' }));
    assert.equal(hits[0].id, 850, 'a search finds a row written after the kill');
  });
});

/** Every record of the stream's first shard, as the event source hands a batch to the ingest role. */
async function readShard(stream: string): Promise<IngestRecord[]> {
  const client = defaultKinesisClient();
  const [shard] = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  const out: IngestRecord[] = [];
  while (it) {
    const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
    const records = res.Records ?? [];
    if (records.length === 0) break;
    for (const r of records) out.push({ data: Buffer.from(r.Data!).toString('base64'), sequenceNumber: r.SequenceNumber! });
    it = res.NextShardIterator;
  }
  return out;
}

/** What a user sees: every row by query, count(*), get of every key and of the `deleted` ones, and searches around overwritten keys. */
async function readAll(call: (route: string, body: unknown) => Promise<any>, collectionName: string, expected: Map<number, string>, deleted: number[]) {
  const keys = [...expected.keys()];
  const strong = { collectionName, consistencyLevel: 'Strong' };
  const count = ok(await call('entities/query', { ...strong, filter: '', outputFields: ['count(*)'] }))[0]['count(*)'];
  const queried = ok(await call('entities/query', { ...strong, filter: 'id >= 0', outputFields: ['tag'], limit: 16_384 })).map((r: any) => [r.id, r.tag]);
  const got: [number, string][] = [];
  const sorted = [...keys].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i += 500) {
    for (const r of ok(await call('entities/get', { ...strong, id: sorted.slice(i, i + 500), outputFields: ['tag'] }))) got.push([r.id, r.tag]);
  }
  const gotDeleted = ok(await call('entities/get', { ...strong, id: deleted, outputFields: ['tag'] })).map((r: any) => r.id);
  const searched: [number, string][] = [];
  for (const q of [5, 520, 810, 851, 1005, 2999]) {
    for (const h of ok(await call('entities/search', { ...strong, data: [vec(q)], limit: 50, outputFields: ['tag'] }))) searched.push([h.id, h.tag]);
  }
  const sortPairs = (p: [number, string][]) => p.sort((a, b) => a[0] - b[0]);
  return {
    count,
    queried: sortPairs(queried),
    got: sortPairs(got),
    gotDeleted,
    searchedDuplicates: duplicates(searched),
    searchedStale: searched.filter(([id, tag]) => expected.get(id) !== tag),
  };
}

/** Hits of one search that repeat an id (each search's hits are pushed in order, 50 at a time). */
function duplicates(hits: [number, string][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < hits.length; i += 50) {
    const seen = new Set<number>();
    for (const [id] of hits.slice(i, i + 50)) seen.has(id) ? out.push(id) : seen.add(id);
  }
  return out;
}

/** readAll's answer for the expected latest values. */
function expectedState(expected: Map<number, string>) {
  const pairs = [...expected].sort((a, b) => a[0] - b[0]);
  return { count: expected.size, queried: pairs, got: pairs, gotDeleted: [], searchedDuplicates: [], searchedStale: [] };
}

/**
 * The shared state a redelivery could change: catalog and checkpoints (not leases, the registry or id
 * counters) and the PK-index entries of keys 0..keys-1 (versioned items, which a scan does not list).
 */
async function sharedState(kv: KvStore, collectionId: number, keys: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of kv.scan({ prefix: '' })) {
    if (/^(lease\/|registry\/|meta\/next-id|meta\/id-block)/.test(e.key)) continue;
    out.set(e.key, Buffer.from(e.value).toString('base64'));
  }
  const entries = await new PkIndex(kv, collectionId).lookup(Array.from({ length: keys }, (_, id) => BigInt(id)));
  entries.forEach((e, id) =>
    out.set(
      `pk ${id}`,
      JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ),
  );
  return out;
}
