/**
 * Several proxies writing one channel on the emulators: their appends go to the querynode that
 * owns the channel (its sequencing point, which group-commits them), every acknowledged row is
 * there exactly once, and when the owner leaves the writes go on (directly, then through the
 * standby that takes the lease).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiProxy } from '../../lib/aws/api-proxy.ts';
import { readChannelLease } from '../../lib/aws/channel-leases.ts';
import { channelName } from '../../lib/engine/channel-state.ts';
import { PATH_TOKEN, callPath, okData, startAwsPath, type AwsPath } from '../support/aws-path-setup.ts';

const ENGINE = { idleSealMs: 600_000, compactionIntervalMs: 0 };
const vec = (i: number) => [Math.cos(i), Math.sin(i), 1, i % 7];

describe('several writers on one channel', () => {
  let path: AwsPath;
  const proxies: ApiProxy[] = [];
  let channel: string;

  /** The channel's lease owner once some live querynode holds it (leases are taken every 2 s: a safety timeout). */
  async function owner(): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const lease = await readChannelLease(path.stores().kv, channel);
      if (lease && lease.owner !== '' && lease.expiresAt > Date.now()) return lease.owner;
      await sleep(100);
    }
    throw new Error(`no querynode took the lease of ${channel}`);
  }

  const count = async () =>
    okData(await callPath(proxies[0], 'entities/query', { collectionName: 'seq', filter: '', outputFields: ['count(*)'], consistencyLevel: 'Strong' }))[0]['count(*)'];

  /** `perProxy` concurrent single-row inserts from every proxy, ids from `from`. */
  async function writeFromEveryProxy(from: number, perProxy: number): Promise<void> {
    const writes = proxies.flatMap((proxy, p) =>
      Array.from({ length: perProxy }, (_, k) => {
        const id = from + p * perProxy + k;
        return callPath(proxy, 'entities/insert', { collectionName: 'seq', data: [{ id, vector: vec(id) }] });
      }),
    );
    for (const reply of await Promise.all(writes)) okData(reply);
  }

  before(async () => {
    path = await startAwsPath(ENGINE, { shards: 1, querynodes: ['qn-a', 'qn-b'] });
    proxies.push(path.proxy);
    for (let i = 0; i < 3; i++) proxies.push(await ApiProxy.open(path.stores(), { token: PATH_TOKEN, config: ENGINE, indexSegment: path.indexer.trigger }));
    okData(await callPath(path.proxy, 'collections/create', { collectionName: 'seq', dimension: 4, metricType: 'L2', params: { shardsNum: 1 } }));
    const info = await path.proxy.db.describeCollection('default', 'seq');
    channel = channelName(info.collectionId, 0);
  });

  after(async () => {
    for (const p of proxies.slice(1)) await p.close();
    await path?.close();
  });

  test("four proxies' concurrent inserts all go through the channel's owner and land exactly once", async () => {
    await owner();
    await writeFromEveryProxy(0, 20);
    assert.equal(await count(), 80, 'every acknowledged row is counted once');
    const routed = proxies.reduce((n, p) => n + p.wal.routed, 0);
    assert.equal(routed, 80, `every insert was appended by the owner (${routed} routed)`);
  });

  test('writes go on when the owner leaves, and the standby takes the channel over', async () => {
    const first = await owner();
    const node = path.nodes.find((n) => n.id === first)!;
    await path.stopQuerynode(node); // releases its lease
    await writeFromEveryProxy(1000, 5);
    assert.equal(await count(), 100, 'the writes made while the channel had no owner landed');
    const next = await owner();
    assert.notEqual(next, first, 'the remaining querynode took the channel');
    const before = proxies.reduce((n, p) => n + p.wal.routed, 0);
    await sleep(1100); // the proxies' cached view of the owner expires
    await writeFromEveryProxy(2000, 5);
    assert.equal(await count(), 120);
    assert.ok(proxies.reduce((n, p) => n + p.wal.routed, 0) - before >= 15, 'the new owner sequences the next writes');
  });
});
