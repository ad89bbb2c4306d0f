/**
 * Channel ownership leases, on the memory KV and on DynamoDB Local: a channel has one owner at a
 * time (its rendezvous-preferred live querynode), the owner keeps it by renewing, a standby takes
 * it only once the lease expired, a stale owner finds out it lost the channel, two nodes racing
 * for a free channel never both get it, and a released channel is free at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDbKvStore } from '../../lib/adapters/aws/dynamodb-kv-store.ts';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { CHANNEL_LEASE_MS, ChannelLeases } from '../../lib/aws/channel-leases.ts';
import { ownerOf } from '../../lib/aws/querynode-view.ts';
import type { Clock } from '../../lib/engine/ports/clock.ts';
import type { KvStore } from '../../lib/engine/ports/kv-store.ts';
import { startEmulators, type Emulators } from '../support/emulators.ts';

/** A clock the test moves. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, sleep: async () => {}, advance: (ms) => (now += ms) };
}

const CHANNELS = Array.from({ length: 12 }, (_, i) => `c7-${i}`);

function leaseSuite(name: string, store: () => Promise<KvStore>) {
  describe(`channel leases on ${name}`, () => {
    it('gives each channel to its preferred live node, keeps it while renewed, and hands it to a standby only after expiry', async () => {
      const kv = await store();
      const clock = manualClock();
      const fleet = ['qn-a', 'qn-b', 'qn-c'];
      const nodes = new Map(fleet.map((id) => [id, new ChannelLeases(kv, id, clock)]));
      const owned = new Map<string, Set<string>>();
      for (const [id, leases] of nodes) owned.set(id, await leases.maintain(CHANNELS, fleet));
      for (const ch of CHANNELS) {
        const holders = fleet.filter((id) => owned.get(id)!.has(ch));
        assert.deepEqual(holders, [ownerOf(ch, fleet)], `channel ${ch} has exactly its preferred owner`);
      }

      // qn-b dies: the others see a two-node fleet, but its leases hold until they expire.
      const lost = [...owned.get('qn-b')!];
      assert.ok(lost.length > 0, 'qn-b held some channels');
      const survivors = ['qn-a', 'qn-c'];
      clock.advance(CHANNEL_LEASE_MS / 2);
      for (const id of survivors) await nodes.get(id)!.maintain(CHANNELS, survivors);
      for (const ch of lost) assert.equal((await nodes.get('qn-a')!.lease(ch))!.owner, 'qn-b', `${ch} stays with qn-b before its lease expires`);
      clock.advance(CHANNEL_LEASE_MS);
      for (const id of survivors) owned.set(id, await nodes.get(id)!.maintain(CHANNELS, survivors));
      for (const ch of CHANNELS) {
        const holders = survivors.filter((id) => owned.get(id)!.has(ch));
        assert.equal(holders.length, 1, `channel ${ch} has one owner after the takeover: ${holders.join(', ')}`);
        if (!lost.includes(ch)) assert.ok(owned.get(ownerOf(ch, fleet)!)!.has(ch), `${ch} did not move: its owner is alive`);
      }

      // qn-b comes back with its old state: its renewals fail, so it knows it lost them.
      const back = await nodes.get('qn-b')!.maintain(CHANNELS, fleet);
      for (const ch of lost) assert.ok(!back.has(ch), `the stale qn-b does not keep ${ch}`);
    });

    it('lets exactly one of two nodes racing for a free channel take it, and frees a released channel at once', async () => {
      const kv = await store();
      const clock = manualClock();
      const ch = 'c9-0';
      // Both think they are preferred (their views of the fleet differ): only one write stores.
      const a = new ChannelLeases(kv, 'qn-a', clock);
      const b = new ChannelLeases(kv, 'qn-b', clock);
      const [gotA, gotB] = await Promise.all([a.maintain([ch], ['qn-a']), b.maintain([ch], ['qn-b'])]);
      assert.equal(Number(gotA.has(ch)) + Number(gotB.has(ch)), 1, 'one owner');
      const [winner, other, otherId] = gotA.has(ch) ? [a, b, 'qn-b'] : [b, a, 'qn-a'];
      await winner.release(ch);
      assert.ok((await other.maintain([ch], [otherId])).has(ch), 'a released channel is taken without waiting for expiry');
      assert.ok(!(await winner.maintain([ch], [otherId])).has(ch), 'the releaser does not get it back');
    });
  });
}

let emulators: Emulators | undefined;
let tables = 0;
before(async () => {
  emulators = await startEmulators({ services: ['dynamodb'] });
});
after(async () => {
  await emulators?.stop();
});

leaseSuite('the memory KV', async () => new MemoryKvStore());
leaseSuite('DynamoDB Local', async () => {
  const name = `leases-${process.pid}-${++tables}`;
  await DynamoDbKvStore.createTable(name);
  return new DynamoDbKvStore({ tableName: name });
});
