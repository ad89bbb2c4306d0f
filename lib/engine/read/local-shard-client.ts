/**
 * A ShardClient over a local Database: what a querynode runs behind its internal route, and the
 * in-process shards of tests. The view becomes the node's segment scope through `scopeOf`; the
 * reads are the engine's own get, query and search with that scope.
 */
import type { Database } from '../database.ts';
import type { ShardClient } from '../ports/shard-client.ts';
import type { SegmentScope } from '../segment-scope.ts';
import type { PrimaryKey } from '../schema/types.ts';
import type { ShardFetchRequest, ShardQueryRequest, ShardQueryResponse, ShardRows, ShardSearchRequest, ShardSearchResponse } from './shard-protocol.ts';

/** Serves shard requests from `db` with the scope `scopeOf(view)` (undefined: every segment). */
export function localShardClient(id: string, db: Database, scopeOf: (view: string[]) => SegmentScope | undefined): ShardClient {
  const pkName = async (r: { db: string; collection: string }) => (await db.describeCollection(r.db, r.collection)).schema.fields.find((f) => f.isPrimary)!.name;
  return {
    id,
    async search(r: ShardSearchRequest): Promise<ShardSearchResponse> {
      const pk = await pkName(r);
      const lists = await db.search(r.db, r.collection, { ...r.request, outputFields: [], scope: scopeOf(r.view) });
      return { hits: lists.map((rows) => rows.map((row) => ({ pk: row[pk] as PrimaryKey, score: row.distance as number }))) };
    },
    async query(r: ShardQueryRequest): Promise<ShardQueryResponse> {
      const scope = scopeOf(r.view);
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
      return { rows: await db.get(r.db, r.collection, pks, { outputFields, partitionNames, consistencyLevel, sessionToken, scope: scopeOf(r.view) }) };
    },
  };
}
