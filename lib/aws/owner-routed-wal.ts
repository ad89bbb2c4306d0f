/**
 * The proxy's WAL on AWS: a channel's appends go to the querynode that holds the channel's owner
 * lease (channel-leases.ts), its one sequencing point, which group-commits concurrent appends into
 * one Kinesis put and one conditional head commit — instead of every proxy racing that commit and
 * leaving orphaned records behind each lost race. Reads, tails and truncation go to the shared WAL
 * directly.
 *
 * Correctness never depends on the owner: with no live owner, or when the owner refuses (HTTP 409,
 * the lease moved) or cannot be reached before anything was sent (connection refused), the proxy
 * appends directly as before. An append whose fate is unknown (a timeout after sending) is never
 * repeated: it fails with a retryable error, as a lost answer from Kinesis would, and the proxy
 * appends directly for a lease time, so a stuck owner costs one write, not every write.
 */
import { ChannelUnavailableError } from '../engine/errors.ts';
import type { Clock } from '../engine/ports/clock.ts';
import type { KvStore } from '../engine/ports/kv-store.ts';
import type { Wal, WalPosition, WalRecord } from '../engine/ports/wal.ts';
import { decodeShardError } from '../engine/read/shard-protocol.ts';
import { CHANNEL_LEASE_MS, readChannelLease } from './channel-leases.ts';
import type { QuerynodeEntry } from './querynode-registry.ts';
import { CHANNEL_HEADER, WAL_APPEND_ROUTE, encodeAppend } from './wal-append-protocol.ts';

/** How long the proxy trusts what it learned of a channel's owner. */
const OWNER_CACHE_MS = 1000;
/** An append to the owner that takes longer fails (retryably) well inside API Gateway's 29 s. */
const APPEND_TIMEOUT_MS = 10_000;
/** Connection errors that mean the request never reached the owner. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** Where the proxy finds owners: the shared KV (leases) and the live querynodes. */
export interface OwnerDirectory {
  kv: KvStore;
  liveNodes(): Promise<QuerynodeEntry[]>;
  token: string;
  clock: Clock;
}

/** `wal` with appends routed to each channel's owner querynode when it has one. */
export class OwnerRoutedWal implements Wal {
  private readonly owners = new Map<string, { url: string | undefined; at: number }>();
  private routedCount = 0;

  constructor(
    private readonly wal: Wal,
    private readonly directory: OwnerDirectory,
  ) {}

  /** Appends routed to an owner so far (the rest went directly). */
  get routed(): number {
    return this.routedCount;
  }

  async append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    const url = await this.ownerUrl(channel);
    if (url !== undefined) {
      const position = await this.appendAt(url, channel, records);
      if (position !== undefined) {
        this.routedCount++;
        return position;
      }
      this.owners.delete(channel);
    }
    return this.wal.append(channel, records);
  }

  read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    return this.wal.read(channel, from, limit);
  }

  tail(channel: string): Promise<WalPosition> {
    return this.wal.tail(channel);
  }

  truncate(channel: string, before: WalPosition): Promise<void> {
    return this.wal.truncate(channel, before);
  }

  dropChannel(channel: string): Promise<void> {
    return this.wal.dropChannel(channel);
  }

  close(): Promise<void> {
    return this.wal.close();
  }

  /** The address of the channel's live owner, or undefined when it has none. */
  private async ownerUrl(channel: string): Promise<string | undefined> {
    const now = this.directory.clock.now();
    const cached = this.owners.get(channel);
    if (cached && now - cached.at < OWNER_CACHE_MS) return cached.url;
    const lease = await readChannelLease(this.directory.kv, channel);
    let url: string | undefined;
    if (lease && lease.owner !== '' && lease.expiresAt > now) url = (await this.directory.liveNodes()).find((n) => n.id === lease.owner)?.url;
    this.owners.set(channel, { url, at: now });
    return url;
  }

  /** The first position the owner appended at, or undefined when it refused or was not reached (nothing appended). */
  private async appendAt(url: string, channel: string, records: Uint8Array[]): Promise<bigint | undefined> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url + WAL_APPEND_ROUTE, {
        method: 'POST',
        // A fresh connection per append: a pooled one the stopping owner just closed fails as
        // "other side closed", indistinguishable from a lost answer; a fresh one is refused cleanly.
        headers: {
          authorization: `Bearer ${this.directory.token}`,
          'content-type': 'application/octet-stream',
          connection: 'close',
          [CHANNEL_HEADER]: channel,
        },
        body: encodeAppend(records),
        signal: AbortSignal.timeout(APPEND_TIMEOUT_MS),
      });
      text = await res.text();
    } catch (err) {
      const code = ((err as { cause?: { code?: string } }).cause ?? {}).code;
      if (code !== undefined && NOT_SENT.has(code)) return undefined;
      // A stuck owner: append directly until its lease could have moved, rather than time out every write.
      this.owners.set(channel, { url: undefined, at: this.directory.clock.now() + CHANNEL_LEASE_MS - OWNER_CACHE_MS });
      throw new ChannelUnavailableError(
        channel,
        `appending to channel ${channel} through its owner querynode failed (${(err as Error).message}); the write may not have landed: retry it`,
        {
          cause: err,
        },
      );
    }
    if (res.status === 409) return undefined;
    const error = decodeShardError(text);
    if (error) throw error;
    if (res.status !== 200) throw new ChannelUnavailableError(channel, `the owner querynode of channel ${channel} answered HTTP ${res.status}: ${text.slice(0, 200)}; retry`);
    return BigInt((JSON.parse(text) as { position: string }).position);
  }
}
