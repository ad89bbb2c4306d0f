/**
 * A distributed read: get, query, search, stats and index progress planned once (planner.ts), fanned out to every shard
 * of a view over the typed shard protocol, reduced with the engine's orders (score by metric,
 * primary-key order for queries), and only the global page (offset..offset+limit) materialized
 * through fetch. A shard that fails or refuses the view (ShardUnavailableError) leaves the view
 * and the read runs again on the rest, whose shares then cover its segments; an engine error a
 * shard answers is the read's error.
 */
import { primaryField } from '../schema/primary-field.ts';
import { ChannelUnavailableError } from '../errors.ts';
import type { Database, DeleteOptions, IndexStatus, QueryRequest, ReadOptions, Row, SearchRequest } from '../database.ts';
import { compileFilter } from '../filter/compile-filter.ts';
import { ShardUnavailableError, type ShardClient } from '../ports/shard-client.ts';
import type { CollectionInfo, PrimaryKey } from '../schema/types.ts';
import { higherIsBetter } from '../search/metric.ts';
import { comparePrimaryKeys } from '../segment-scope.ts';
import { planGet, planQuery, planSearch } from './planner.ts';
import type { Placement } from './shard-protocol.ts';

/**
 * Where a distributed read finds its shards; `lost` tells it a shard left the view. `replicas`:
 * shards holding each segment (default 1); `replica` picks the replica number of one read (default 0).
 */
export interface ShardSource {
  shards(collection: string): Promise<ShardClient[]>;
  lost?(shard: ShardClient, error: ShardUnavailableError): void;
  readonly replicas?: number;
  replica?(): number;
}

/** Runs `step` on every shard of the view; reruns without the shards that were unavailable. */
async function onView<T>(source: ShardSource, collection: string, step: (shard: ShardClient, placement: Placement) => Promise<T>): Promise<{ shard: ShardClient; answer: T }[]> {
  let shards = await source.shards(collection);
  const fleet = shards.map((s) => s.id).sort();
  const chosen = { fleet, replicas: source.replicas ?? 1, replica: source.replica?.() ?? 0 };
  const failures: string[] = [];
  while (shards.length > 0) {
    const placement = { view: shards.map((s) => s.id).sort(), ...chosen };
    const settled = await Promise.allSettled(shards.map((s) => step(s, placement)));
    const lost = shards.filter((_, i) => {
      const r = settled[i];
      return r.status === 'rejected' && r.reason instanceof ShardUnavailableError;
    });
    if (lost.length === 0) {
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return shards.map((shard, i) => ({ shard, answer: (settled[i] as PromiseFulfilledResult<T>).value }));
    }
    for (const s of lost) {
      const err = (settled[shards.indexOf(s)] as PromiseRejectedResult).reason as ShardUnavailableError;
      failures.push(`${s.id} (${err.message})`);
      source.lost?.(s, err);
    }
    shards = shards.filter((s) => !lost.includes(s));
  }
  // Answered as before the shard protocol: a retryable 65535 naming the nodes that did not answer.
  const why = failures.length === 0 ? 'no querynode is registered' : `no querynode answered: ${failures.join('; ')}`;
  throw new ChannelUnavailableError(collection, `${why}; the querynode service may be starting or scaling, retry shortly`);
}

function pkNameOf(info: CollectionInfo): string {
  return primaryField(info.schema).name;
}

/** Fetches the rows of `owned` (pk → the shard that holds it) and returns them by pk. */
async function fetchRows(
  target: { db: string; collection: string },
  placement: Placement,
  owned: Map<PrimaryKey, ShardClient>,
  outputFields: string[],
  options: ReadOptions,
  pkName: string,
) {
  const byShard = new Map<ShardClient, PrimaryKey[]>();
  for (const [pk, shard] of owned) {
    const pks = byShard.get(shard);
    if (pks) pks.push(pk);
    else byShard.set(shard, [pk]);
  }
  const rows = new Map<PrimaryKey, Row>();
  const { partitionNames, consistencyLevel, sessionToken } = options;
  const answers = await Promise.all(
    [...byShard].map(([shard, pks]) => shard.fetch({ kind: 'fetch', ...target, ...placement, pks, outputFields, partitionNames, consistencyLevel, sessionToken })),
  );
  for (const a of answers) for (const row of a.rows) rows.set(row[pkName] as PrimaryKey, row);
  return rows;
}

/** A distributed search: candidates from every shard, the global page, then its rows fetched. */
export async function distributedSearch(source: ShardSource, info: CollectionInfo, db: string, request: SearchRequest, defaultEf: number): Promise<Row[][]> {
  const { plan, outputFields } = planSearch(info, request, defaultEf);
  const target = { db, collection: info.name };
  const { scope: _scope, outputFields: _outputs, ...rest } = request;
  const shardRequest = { ...rest, annsField: plan.field.name, limit: plan.offset + plan.limit, offset: 0 };
  // One round: candidates and, with output fields, the fetch under the same view.
  return rerunOnLoss(source, info.name, async () => {
    const answers = await onView(source, info.name, (shard, placement) =>
      shard.search({ kind: 'search', ...target, ...placement, request: shardRequest }).then((a) => ({ a, placement })),
    );
    const desc = higherIsBetter(plan.metric);
    const pages = request.vectors.map((_, q) => {
      const all = answers.flatMap(({ shard, answer }) => answer.a.hits[q].map((h) => ({ ...h, shard })));
      all.sort((x, y) => (desc ? y.score - x.score : x.score - y.score));
      return all.slice(plan.offset, plan.offset + plan.limit);
    });
    const pkName = pkNameOf(info);
    if (outputFields.length === 0) return pages.map((page) => page.map((h) => ({ [pkName]: h.pk, distance: h.score })));
    const owned = new Map<PrimaryKey, ShardClient>();
    for (const page of pages) for (const h of page) owned.set(h.pk, h.shard);
    const rows = await fetchRows(target, answers[0].answer.placement, owned, outputFields, request, pkName);
    return pages.map((page) => page.map((h) => ({ [pkName]: h.pk, distance: h.score, ...withoutKey(rows.get(h.pk), pkName) })));
  });
}

function withoutKey(row: Row | undefined, pkName: string): Row {
  if (!row) return {};
  const { [pkName]: _pk, ...rest } = row;
  return rest;
}

/** A fetch after a completed fan-out can meet a shard that left since: the whole read runs again. */
async function rerunOnLoss<T>(source: ShardSource, collection: string, read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ShardUnavailableError) || attempt >= 3) throw err;
      source.lost?.((await source.shards(collection)).find((s) => s.id === err.shardId) ?? ({ id: err.shardId } as ShardClient), err);
    }
  }
}

/** A distributed query: keys in primary-key order from every shard, the global page, its rows fetched; or the summed count. */
export async function distributedQuery(source: ShardSource, info: CollectionInfo, db: string, request: QueryRequest): Promise<Row[]> {
  const plan = planQuery(info, request);
  const target = { db, collection: info.name };
  const { scope: _scope, outputFields: _outputs, ...rest } = request;
  if (plan.count) {
    const answers = await onView(source, info.name, (shard, placement) => shard.query({ kind: 'query', ...target, ...placement, request: rest, count: true }));
    return [{ 'count(*)': answers.reduce((n, { answer }) => n + ('count' in answer ? answer.count : 0), 0) }];
  }
  const end = plan.limit < 0 ? undefined : plan.offset + plan.limit;
  const shardRequest = { ...rest, limit: end, offset: end === undefined ? undefined : 0 };
  return rerunOnLoss(source, info.name, async () => {
    const answers = await onView(source, info.name, (shard, placement) =>
      shard.query({ kind: 'query', ...target, ...placement, request: shardRequest, count: false }).then((a) => ({ a, placement })),
    );
    const all = answers.flatMap(({ shard, answer }) => ('pks' in answer.a ? answer.a.pks : []).map((pk) => ({ pk, shard })));
    all.sort((x, y) => comparePrimaryKeys(x.pk, y.pk));
    const page = all.slice(end === undefined ? 0 : plan.offset, end);
    const pkName = pkNameOf(info);
    const rows = await fetchRows(target, answers[0].answer.placement, new Map(page.map((h) => [h.pk, h.shard])), plan.outputFields, request, pkName);
    return page.map((h) => rows.get(h.pk)).filter((r): r is Row => r !== undefined);
  });
}

/** A distributed get: every shard materializes the keys it holds; rows in the order of `ids`. */
export async function distributedGet(source: ShardSource, info: CollectionInfo, db: string, ids: PrimaryKey[], options: ReadOptions): Promise<Row[]> {
  const outputFields = planGet(options.outputFields);
  const { partitionNames, consistencyLevel, sessionToken } = options;
  const answers = await onView(source, info.name, (shard, placement) =>
    shard.fetch({ kind: 'fetch', db, collection: info.name, ...placement, pks: ids, outputFields, partitionNames, consistencyLevel, sessionToken }),
  );
  const pkName = pkNameOf(info);
  const rank = new Map<PrimaryKey, number>();
  ids.forEach((id, i) => rank.has(id) || rank.set(id, i)); // a repeated id ranks where it first appears
  // The order the ids were asked in, as one node answers (each key lives in one share only).
  return answers.flatMap(({ answer }) => answer.rows).sort((a, b) => rank.get(a[pkName] as PrimaryKey)! - rank.get(b[pkName] as PrimaryKey)!);
}

/** Live rows summed over the shares (of one partition, or all). */
async function distributedStats(source: ShardSource, db: string, collection: string, partitionName?: string): Promise<{ rowCount: number }> {
  const answers = await onView(source, collection, (shard, placement) => shard.stats({ kind: 'stats', db, collection, ...placement, partitionName }));
  return { rowCount: answers.reduce((n, { answer }) => n + answer.rowCount, 0) };
}

/** Index progress summed over the shares; an index is Finished when it is on every share. */
async function distributedDescribeIndex(source: ShardSource, base: Database, db: string, collection: string, indexName: string): Promise<IndexStatus[]> {
  const specs = await base.describeIndex(db, collection, indexName); // the catalog's specs; also refuses an unknown index
  const answers = await onView(source, collection, (shard, placement) => shard.indexes({ kind: 'indexes', db, collection, ...placement, indexName }));
  return specs.map((spec) => {
    const shares = answers.map(({ answer }) => answer.indexes.find((i) => i.indexName === spec.indexName));
    const totalRows = shares.reduce((n, i) => n + (i?.totalRows ?? 0), 0);
    const indexedRows = shares.reduce((n, i) => n + (i?.indexedRows ?? 0), 0);
    const finished = shares.every((i) => i?.finished === true);
    return { ...spec, totalRows, indexedRows, pendingRows: totalRows - indexedRows, state: finished ? 'Finished' : 'InProgress' };
  });
}

/** A delete by filter: the matching keys from every share (as of now), then deleted through `base`. */
async function distributedDelete(source: ShardSource, base: Database, db: string, name: string, filter: string, options: DeleteOptions) {
  if (!filter.trim()) return base.delete(db, name, filter, options); // refused there, with its message
  const info = await base.describeCollection(db, name);
  if (compileFilter(filter, info.schema, options.exprParams).primaryKeys) return base.delete(db, name, filter, options); // names its keys: no read needed
  const partitionNames = options.partitionName ? [options.partitionName] : undefined;
  const pkName = pkNameOf(info);
  const rows = await distributedQuery(source, info, db, { filter, exprParams: options.exprParams, partitionNames, outputFields: [pkName], consistencyLevel: 'Strong' });
  return base.delete(db, name, filter, { ...options, keys: rows.map((r) => r[pkName] as PrimaryKey) });
}

/**
 * `base` (DDL, writes, describe) with the reads that need the data through a distributed read over
 * `source`: get, query, search (hybrid search and count go through them, as the router builds them
 * on these), collection and partition stats, index progress and the keys a delete by filter hits.
 */
export function distributedDatabase(base: Database, source: ShardSource, defaultEf: number): Database {
  const reads: Partial<Database> = {
    get: async (db, name, ids, options) => distributedGet(source, await base.describeCollection(db, name), db, ids, options),
    query: async (db, name, request) => distributedQuery(source, await base.describeCollection(db, name), db, request),
    search: async (db, name, request) => distributedSearch(source, await base.describeCollection(db, name), db, request, defaultEf),
    getCollectionStats: async (db, name) => distributedStats(source, db, (await base.describeCollection(db, name)).name),
    getPartitionStats: async (db, name, partition) => {
      const info = await base.describeCollection(db, name);
      if (!info.partitions.includes(partition)) return base.getPartitionStats(db, name, partition); // refused there, with its message
      return distributedStats(source, db, info.name, partition);
    },
    describeIndex: (db, name, indexName) => distributedDescribeIndex(source, base, db, name, indexName),
    delete: (db, name, filter, options) => distributedDelete(source, base, db, name, filter, options),
  };
  return new Proxy(base, {
    get(target, prop) {
      if (typeof prop === 'string' && Object.hasOwn(reads, prop)) return reads[prop as keyof Database];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
