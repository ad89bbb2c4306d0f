/** A view of a Database whose get, query and search serve only the segments of one scope. */
import type { Database, QueryRequest, ReadOptions, SearchRequest } from './database.ts';
import type { PrimaryKey } from './schema/types.ts';
import type { SegmentScope } from './segment-scope.ts';

/**
 * `db` with `scope` added to every get, query and search (the REST routes stay unaware of
 * scopes); every other operation goes to `db` unchanged.
 */
export function scopedDatabase(db: Database, scope: SegmentScope): Database {
  const reads: Partial<Database> = {
    get: (name: string, collection: string, ids: PrimaryKey[], options: ReadOptions) => db.get(name, collection, ids, { ...options, scope }),
    query: (name: string, collection: string, request: QueryRequest) => db.query(name, collection, { ...request, scope }),
    search: (name: string, collection: string, request: SearchRequest) => db.search(name, collection, { ...request, scope }),
  };
  return new Proxy(db, {
    get(target, prop) {
      if (typeof prop === 'string' && Object.hasOwn(reads, prop)) return reads[prop as keyof Database];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
