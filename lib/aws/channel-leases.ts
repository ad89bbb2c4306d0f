/**
 * Channel ownership among querynodes (ARCHITECTURE.md §5): each channel has at most one owner
 * querynode at a time, held as a lease in the shared KV (a versioned key: every acquisition and
 * renewal writes the next version, so of two nodes racing for a channel exactly one stores). The
 * preferred owner of a channel is its rendezvous winner among the live querynodes; a node takes a
 * channel only when it is the preferred one and the lease is free or expired, renews what it
 * holds on every heartbeat, and loses a channel whose lease another node took. A standby therefore
 * takes over within one lease time of its owner's death, and a live owner keeps its channel when
 * the fleet changes (no handover while it serves; it gives the channel up by `release`).
 */
import { decodeJson, encodeJson } from '../engine/catalog/json-codec.ts';
import { channelOwnerKey } from '../engine/catalog/key-layout.ts';
import type { Clock } from '../engine/ports/clock.ts';
import type { KvStore } from '../engine/ports/kv-store.ts';
import { ownerOf } from './querynode-view.ts';

/** How long a lease lasts without renewal: a few heartbeats, so one missed renewal does not lose it. */
export const CHANNEL_LEASE_MS = 10_000;

interface LeaseValue {
  owner: string;
  expiresAt: number;
}

/** The lease of one channel as stored. */
export interface ChannelLease {
  owner: string;
  expiresAt: number;
  version: bigint;
}

/** The current lease of `channel` in `kv`, or undefined when none was ever taken (an expired or released one has an old `expiresAt`). */
export async function readChannelLease(kv: KvStore, channel: string): Promise<ChannelLease | undefined> {
  const entry = await kv.getVersioned(channelOwnerKey(channel));
  if (!entry) return undefined;
  const value = decodeJson(entry.value, channelOwnerKey(channel)) as LeaseValue;
  return { owner: value.owner, expiresAt: value.expiresAt, version: entry.version };
}

/** One querynode's view of and hold on channel leases. */
export class ChannelLeases {
  /** The channels this node holds, with the version its last write stored. */
  private readonly held = new Map<string, bigint>();

  constructor(
    private readonly kv: KvStore,
    private readonly self: string,
    private readonly clock: Clock,
    private readonly leaseMs = CHANNEL_LEASE_MS,
  ) {}

  /** The current lease of `channel`, or undefined when none was ever taken. */
  lease(channel: string): Promise<ChannelLease | undefined> {
    return readChannelLease(this.kv, channel);
  }

  /**
   * Renews the leases this node holds among `channels` and takes those it is the preferred owner of
   * under `fleet` (live querynode ids, this one included) whose lease is free or expired. Returns
   * the channels it holds afterwards.
   */
  async maintain(channels: readonly string[], fleet: readonly string[]): Promise<Set<string>> {
    const now = this.clock.now();
    const leases = await this.kv.batchGetVersioned(channels.map(channelOwnerKey));
    const writes: { channel: string; version: bigint }[] = [];
    channels.forEach((channel, i) => {
      const entry = leases[i];
      const value = entry ? (decodeJson(entry.value, channelOwnerKey(channel)) as LeaseValue) : undefined;
      const mine = value?.owner === this.self && entry!.version === this.held.get(channel);
      if (!mine) this.held.delete(channel);
      const free = !value || value.expiresAt <= now;
      if (mine || (free && ownerOf(channel, fleet) === this.self)) writes.push({ channel, version: (entry?.version ?? 0n) + 1n });
    });
    const value = encodeJson({ owner: this.self, expiresAt: now + this.leaseMs } satisfies LeaseValue);
    const stored = await this.kv.batchPutIfNewer(writes.map((w) => ({ key: channelOwnerKey(w.channel), value, version: w.version })));
    writes.forEach((w, i) => {
      if (stored[i]) this.held.set(w.channel, w.version);
      else this.held.delete(w.channel);
    });
    return this.owned();
  }

  /** The channels this node holds (as of its last maintain). */
  owned(): Set<string> {
    return new Set(this.held.keys());
  }

  /** Gives a held channel up at once (a clean shutdown), so a standby need not wait for expiry. */
  async release(channel: string): Promise<void> {
    const version = this.held.get(channel);
    if (version === undefined) return;
    this.held.delete(channel);
    await this.kv.putIfNewer(channelOwnerKey(channel), encodeJson({ owner: '', expiresAt: 0 } satisfies LeaseValue), version + 1n);
  }
}
