/**
 * What users pay for, in AWS calls, on the emulators: the whole AWS path (startAwsPath) with an
 * AwsCallCounter per role attached through the client hook, asserting call counts — never timings —
 * that the cost model (docs/cost-model.md, `npm run cost`) rests on: a single-row insert is one
 * Kinesis record of one PUT payload unit and a bounded number of DynamoDB write units; the datanodes
 * read each byte of the stream once (they apply the event source's batch, from the batch and no
 * further); a search
 * writes nothing and touches no Kinesis from the API; an idle querynode's DynamoDB reads are bounded
 * per channel and second. The bounds are the measured figures with a little headroom, so a change
 * that makes an operation dearer fails here instead of on the bill.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AwsCallCounter, totalOf, type CallCounts, countsSince } from '../../lib/adapters/aws/call-counter.ts';
import { callPath, okData, startAwsPath, type AwsPath, type PathRole } from '../support/aws-path-setup.ts';

const DIM = 768;
const SHARDS = 2;
const ROLES: PathRole[] = ['proxy', 'ingest', 'indexer', 'querynode'];
/** DynamoDB operations that write. */
const DYNAMODB_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems', 'BatchExecuteStatement', 'ExecuteStatement', 'ExecuteTransaction'];

/**
 * DynamoDB write units one single-row insert may cost, owner querynode, datanode and API together.
 * Measured about 4.6 (npm run cost, docs/cost-model.md): the owner's WAL head commit (a 2-unit
 * transaction), the datanode's PK-index statement (about 1.5) and applied position (a 2-unit
 * transaction per ingest batch); here 5.2 to 5.8, as the querynodes' heartbeats during the settle wait
 * count too. 8 leaves room for batch boundaries falling differently, not for one more write per row.
 */
const MAX_WRITE_UNITS_PER_SINGLE_INSERT = 8;
/**
 * DynamoDB read calls an idle querynode may make per channel per second. Measured 0.9 to 1.4: the
 * registry view, the channel lease checks and the WAL-head polls of the tail follower (it polls every
 * 100 ms, but most polls need no DynamoDB call). 3 leaves room for a lease renewal or
 * a registry refresh landing in the window, not for polling DynamoDB at the follow rate.
 */
const MAX_IDLE_READS_PER_NODE_CHANNEL_SECOND = 3;

const vector = (i: number) => Array.from({ length: DIM }, (_, d) => Number((Math.sin(i * 7.31 + d * 0.13) * 0.5).toFixed(8)));

describe('what operations cost in AWS calls', () => {
  let path: AwsPath;
  const counters = Object.fromEntries(ROLES.map((r) => [r, new AwsCallCounter()])) as Record<PathRole, AwsCallCounter>;
  const snapshot = () => Object.fromEntries(ROLES.map((r) => [r, counters[r].snapshot()])) as Record<PathRole, CallCounts>;
  const since = (before: Record<PathRole, CallCounts>) => Object.fromEntries(ROLES.map((r) => [r, countsSince(counters[r].snapshot(), before[r])])) as Record<PathRole, CallCounts>;
  const sum = (counts: Record<PathRole, CallCounts>, prefix: string, field: Parameters<typeof totalOf>[2]) => ROLES.reduce((s, r) => s + totalOf(counts[r], prefix, field), 0);
  /** Resolves once the datanodes have applied everything (their DynamoDB writes and Kinesis record reads stopped for a second). */
  const settled = async () => {
    const progress = () => {
      const s = counters.ingest.snapshot();
      return totalOf(s, 'DynamoDB', 'writeUnits') + totalOf(s, 'Kinesis', 'recordBytesRead');
    };
    let last = -1;
    for (let stable = 0, i = 0; stable < 2 && i < 40; i++) {
      const now = progress();
      stable = now === last ? stable + 1 : 0;
      last = now;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  let next = 0;
  const insertOne = async () => okData(await callPath(path.proxy, 'entities/insert', { collectionName: 'cost', data: [{ id: next, vector: vector(next++) }] }));

  before(async () => {
    path = await startAwsPath(
      { compactionIntervalMs: 0, idleSealMs: 600_000 },
      { shards: SHARDS, querynodes: ['qn-a', 'qn-b'], clientHooks: Object.fromEntries(ROLES.map((r) => [r, counters[r].hook()])) },
    );
    okData(await callPath(path.proxy, 'collections/create', { collectionName: 'cost', dimension: DIM, metricType: 'COSINE', params: { shardsNum: SHARDS } }));
    // Warm up: the first writes take the channel leases and open the datanodes, once per deployment, not per row.
    for (let i = 0; i < 4; i++) await insertOne();
    await settled();
  });
  after(async () => path?.close());

  test('the AWS clients of the proxy, the datanodes and the querynodes are all counted through the hook', () => {
    // The indexer's clients are hooked too, but it makes no call before a segment is flushed.
    for (const r of ['proxy', 'ingest', 'querynode'] as const) assert.ok(Object.keys(counters[r].snapshot()).length > 0, `${r} made AWS calls the counter saw`);
  });

  test('a single-row insert puts one Kinesis record of one PUT payload unit and a bounded number of DynamoDB write units', async (t) => {
    const n = 6;
    const before = snapshot();
    for (let i = 0; i < n; i++) await insertOne();
    await settled();
    const d = since(before);
    assert.equal(sum(d, 'Kinesis', 'recordsPut'), n, 'one Kinesis record per single-row insert');
    assert.equal(sum(d, 'Kinesis', 'putPayloadUnits'), n, 'a 768-d row fits one 25 KB PUT payload unit');
    assert.ok(sum(d, 'Kinesis.PutRecord', 'calls') + sum(d, 'Kinesis.PutRecords', 'calls') <= n, 'at most one Kinesis put call per insert');
    const units = sum(d, 'DynamoDB', 'writeUnits') / n;
    t.diagnostic(`per single-row insert: ${units.toFixed(2)} DynamoDB write units, ${(sum(d, 'DynamoDB', 'readUnits') / n).toFixed(2)} read units`);
    assert.ok(units <= MAX_WRITE_UNITS_PER_SINGLE_INSERT, `DynamoDB write units per single-row insert: ${units.toFixed(2)} (at most ${MAX_WRITE_UNITS_PER_SINGLE_INSERT})`);
    assert.ok(sum(d, 'DynamoDB', 'writeUnits') > 0, 'the insert was counted (PK index and WAL head writes)');
  });

  test('the datanodes read each byte of the stream once: they apply the batch the event source delivered, from the batch and no further', async (t) => {
    const before = snapshot();
    for (let b = 0; b < 3; b++) {
      const data = Array.from({ length: 20 }, () => ({ id: next, vector: vector(next++) }));
      okData(await callPath(path.proxy, 'entities/insert', { collectionName: 'cost', data }));
    }
    await settled();
    const d = since(before);
    const written = sum(d, 'Kinesis', 'recordBytesPut');
    const readByIngest = totalOf(d.ingest, 'Kinesis', 'recordBytesRead');
    t.diagnostic(`Kinesis bytes read by the ingest role per byte written: ${(readByIngest / written).toFixed(2)}`);
    assert.ok(written > 0, 'the inserts were put on Kinesis');
    // The poller (the event source's stand-in) reads each record once: 1.0. Reading every batch again
    // from the shard made it 2.0, and applying to the tip (reading ahead what the next batch delivers) 1.67.
    assert.ok(readByIngest <= written * 1.1, `the ingest role read ${readByIngest} bytes for ${written} written (at most 1.1 ×)`);
  });

  test('a search or a get from the API writes nothing to DynamoDB, makes no Kinesis call, and nothing anywhere puts on Kinesis', async () => {
    const before = snapshot();
    for (let i = 0; i < 10; i++) {
      const hits = okData(await callPath(path.proxy, 'entities/search', { collectionName: 'cost', data: [vector(i % next)], limit: 3 }));
      assert.ok(hits.length > 0);
      okData(await callPath(path.proxy, 'entities/get', { collectionName: 'cost', id: [i % next] }));
    }
    const d = since(before);
    const proxyWrites = DYNAMODB_WRITES.reduce((s, op) => s + totalOf(d.proxy, `DynamoDB.${op}`, 'calls'), 0);
    assert.equal(proxyWrites, 0, `the API made DynamoDB writes: ${JSON.stringify(d.proxy)}`);
    assert.equal(totalOf(d.proxy, 'Kinesis', 'calls'), 0, 'the API never reads or writes Kinesis for a read');
    assert.equal(sum(d, 'Kinesis', 'recordsPut'), 0, 'no role put a Kinesis record for reads');
    // Bounded reads (the default) need no tail read of their own: the querynodes' background reads
    // (about 1 per node and channel a second) are all that is left; a tail read per read and channel
    // made it 4 a search before.
    const reads = ['GetItem', 'BatchGetItem', 'Query'].reduce((s, op) => s + totalOf(d.querynode, `DynamoDB.${op}`, 'calls'), 0);
    assert.ok(reads <= 20, `the querynodes made ${reads} DynamoDB reads for 10 Bounded searches and 10 gets (at most 20: their background only)`);
  });

  test('an idle querynode makes a bounded number of DynamoDB reads per channel per second', async (t) => {
    await settled();
    const seconds = 3;
    const before = counters.querynode.snapshot();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const d = countsSince(counters.querynode.snapshot(), before);
    const reads = ['GetItem', 'BatchGetItem', 'Query', 'Scan'].reduce((s, op) => s + totalOf(d, `DynamoDB.${op}`, 'attempts'), 0);
    const rate = reads / seconds / path.nodes.length / SHARDS;
    t.diagnostic(`idle: ${rate.toFixed(2)} DynamoDB reads per querynode per channel per second`);
    assert.ok(
      rate <= MAX_IDLE_READS_PER_NODE_CHANNEL_SECOND,
      `idle reads per querynode per channel per second: ${rate.toFixed(2)} (at most ${MAX_IDLE_READS_PER_NODE_CHANNEL_SECOND}); ${JSON.stringify(d)}`,
    );
    assert.equal(totalOf(d, 'Kinesis', 'recordsPut'), 0, 'an idle querynode puts nothing on Kinesis');
  });
});
