/**
 * The port a distributed read talks to its shards through: one client per querynode (or an
 * in-process one over a local Database). A shard serves its share of the segments under the
 * read's view: search answers candidates (pk, score) only, query answers keys in primary-key
 * order or a count, fetch materializes the rows of given keys with their output fields, stats
 * counts the share's live rows and indexes reports its index build progress.
 */
import type {
  ShardFetchRequest,
  ShardIndexes,
  ShardIndexesRequest,
  ShardQueryRequest,
  ShardQueryResponse,
  ShardRows,
  ShardSearchRequest,
  ShardSearchResponse,
  ShardStats,
  ShardStatsRequest,
} from '../read/shard-protocol.ts';

/** One shard of a distributed read. Engine errors of the shard are thrown as themselves. */
export interface ShardClient {
  /** The shard's id in views. */
  readonly id: string;
  search(request: ShardSearchRequest): Promise<ShardSearchResponse>;
  query(request: ShardQueryRequest): Promise<ShardQueryResponse>;
  fetch(request: ShardFetchRequest): Promise<ShardRows>;
  stats(request: ShardStatsRequest): Promise<ShardStats>;
  indexes(request: ShardIndexesRequest): Promise<ShardIndexes>;
}

/** A shard that did not answer, or is not the shard the view named (HTTP 409): it leaves the view and the read reruns on the rest. */
export class ShardUnavailableError extends Error {
  constructor(
    readonly shardId: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShardUnavailableError';
  }
}
