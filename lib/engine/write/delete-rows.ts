/**
 * A delete by filter as the write path takes it: a filter naming primary keys deletes those keys
 * with no read; any other filter is resolved against everything acknowledged so far (or its keys
 * come resolved by a distributed read), then exactly those keys are appended as one delete.
 */
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import type { DeleteOptions } from '../database.ts';
import { invalidParameter } from '../errors.ts';
import { compileFilter } from '../filter/compile-filter.ts';
import { queryRows } from '../read-path.ts';
import type { PrimaryKey } from '../schema/types.ts';

/** Deletes the rows of `partition` ('' = every partition) that `filter` matches; `caughtUp` waits until every acknowledged write is applied. */
export async function deleteRows(
  rt: CollectionRuntime,
  partition: string,
  filter: string,
  options: DeleteOptions,
  caughtUp: () => Promise<void>,
): Promise<{ deleteCount: number; sessionToken: bigint | undefined }> {
  if (!filter || filter.trim() === '') throw invalidParameter('delete needs a filter; to delete everything use a filter that matches every row, e.g. "id >= 0"');
  const compiled = compileFilter(filter, rt.info.schema, options.exprParams);
  let pks: PrimaryKey[] | undefined = compiled.primaryKeys ?? options.keys;
  if (!pks) {
    await caughtUp();
    const rows = await queryRows(rt.state, compiled, { limit: -1, offset: 0, partitions: partition ? [partition] : undefined, unordered: true });
    pks = rows.map((r) => r.segment.pks[r.offset]);
  }
  if (pks.length === 0) return { deleteCount: 0, sessionToken: undefined };
  return { deleteCount: pks.length, sessionToken: await rt.appendDelete(pks, partition) };
}
