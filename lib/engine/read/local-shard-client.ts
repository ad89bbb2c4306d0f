/**
 * A ShardClient over a local Database: what a querynode runs behind its internal route, and the
 * in-process shards of tests. The placement (view and replica) becomes the node's segment scope
 * through `scopeOf`; the reads are the engine's own get, query, search, stats and index describe
 * with that scope.
 */
import { primaryField } from '../schema/primary-field.ts';
import type { Database } from '../database.ts';
import type { ShardClient } from '../ports/shard-client.ts';
import type { SegmentScope } from '../segment-scope.ts';
import type { PrimaryKey } from '../schema/types.ts';
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
  Placement,
} from './shard-protocol.ts';

/** Serves shard requests from `db` with the scope `scopeOf(placement)` (undefined: every segment). */
export function localShardClient(id: string, db: Database, scopeOf: (placement: Placement) => SegmentScope | undefined): ShardClient {
  const pkName = async (r: { db: string; collection: string }) => primaryField((await db.describeCollection(r.db, r.collection)).schema).name;
  return {
    id,
    async search(r: ShardSearchRequest): Promise<ShardSearchResponse> {
      const pk = await pkName(r);
      const lists = await db.search(r.db, r.collection, { ...r.request, outputFields: [], scope: scopeOf(r) });
      return { hits: lists.map((rows) => rows.map((row) => ({ pk: row[pk] as PrimaryKey, score: row.distance as number }))) };
    },
    async query(r: ShardQueryRequest): Promise<ShardQueryResponse> {
      const scope = scopeOf(r);
      if (r.count) {
        const [row] = await db.query(r.db, r.collection, { ...r.request, outputFields: ['count(*)'], scope });
        return { count: Number(row['count(*)']) };
      }
      const pk = await pkName(r);
      const rows = await db.query(r.db, r.collection, { ...r.request, outputFields: [pk], scope });
      return { pks: rows.map((row) => row[pk] as PrimaryKey) };
    },
    async fetch(r: ShardFetchRequest): Promise<ShardRows> {
      const { pks, outputFields, partitionNames, consistencyLevel, sessionToken } = r;
      return { rows: await db.get(r.db, r.collection, pks, { outputFields, partitionNames, consistencyLevel, sessionToken, scope: scopeOf(r) }) };
    },
    async stats(r: ShardStatsRequest): Promise<ShardStats> {
      const scope = { scope: scopeOf(r) };
      return r.partitionName === undefined ? db.getCollectionStats(r.db, r.collection, scope) : db.getPartitionStats(r.db, r.collection, r.partitionName, scope);
    },
    async indexes(r: ShardIndexesRequest): Promise<ShardIndexes> {
      const statuses = await db.describeIndex(r.db, r.collection, r.indexName, { scope: scopeOf(r) });
      return { indexes: statuses.map((s) => ({ indexName: s.indexName, totalRows: s.totalRows, indexedRows: s.indexedRows, finished: s.state === 'Finished' })) };
    },
  };
}
