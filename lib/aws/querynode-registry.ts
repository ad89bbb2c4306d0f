/**
 * The querynode registry, kept in the deployment's KV table (LocalStack's free tier has no Cloud
 * Map): each querynode writes a heartbeat item. The live querynodes are the proxy's view for a
 * fanned-out read (querynode-view.ts splits the segments among them by rendezvous hashing, with
 * the weight defined here). A stopping querynode first marks itself *draining*: it still serves
 * reads, but the others hold its segments as if it were gone, and each reports the fleet its memory
 * follows (`residentFor`), so the stopping node leaves once they have taken its share in.
 */
import { decodeJson, encodeJson } from '../engine/catalog/json-codec.ts';
import { QUERYNODE_REGISTRY_PREFIX } from '../engine/catalog/key-layout.ts';
import { murmur3_32 } from '../engine/hash.ts';
import type { KvStore } from '../engine/ports/kv-store.ts';

const PREFIX = QUERYNODE_REGISTRY_PREFIX;
/** How often a querynode renews its entry. */
export const HEARTBEAT_MS = 2000;
/** A querynode whose heartbeat is older than this is considered gone. */
export const EXPIRY_MS = 5 * HEARTBEAT_MS;

/** One registered querynode. */
export interface QuerynodeEntry {
  id: string;
  /** Base URL of its internal REST API, e.g. http://10.0.1.5:19531. */
  url: string;
  heartbeatAt: number;
  /** Stopping: still serving, but no longer a holder of any segment. */
  draining?: boolean;
  /** The holders' fleet (sorted ids) this node's memory was last brought in line with. */
  residentFor?: string[];
}

/** What a heartbeat says of a querynode besides its address. */
export type QuerynodeState = Pick<QuerynodeEntry, 'draining' | 'residentFor'>;

const encoder = new TextEncoder();

/** Reads and writes the registry. */
export class QuerynodeRegistry {
  constructor(private readonly kv: KvStore) {}

  /** Writes (or renews) a querynode's entry. */
  async heartbeat(id: string, url: string, state: QuerynodeState = {}, now = Date.now()): Promise<void> {
    await this.kv.put(PREFIX + id, encodeJson({ id, url, heartbeatAt: now, ...state } satisfies QuerynodeEntry));
  }

  /** Removes a querynode's entry (clean shutdown). */
  async leave(id: string): Promise<void> {
    await this.kv.delete(PREFIX + id);
  }

  /** Querynodes with a fresh heartbeat. */
  async live(now = Date.now()): Promise<QuerynodeEntry[]> {
    const out: QuerynodeEntry[] = [];
    for await (const e of this.kv.scan({ prefix: PREFIX })) {
      const entry = decodeJson<QuerynodeEntry>(e.value);
      if (now - entry.heartbeatAt <= EXPIRY_MS) out.push(entry);
    }
    return out;
  }
}

/** The ids that hold segments: the live querynodes that are not draining, sorted. */
export function holdingFleet(entries: readonly QuerynodeEntry[]): string[] {
  return entries
    .filter((e) => !e.draining)
    .map((e) => e.id)
    .sort();
}

/** A querynode's rendezvous (highest-random-weight) weight for a key: the highest weight wins the key. */
export function rendezvousWeight(nodeId: string, key: string): number {
  return murmur3_32(encoder.encode(`${nodeId}/${key}`)) >>> 0;
}
