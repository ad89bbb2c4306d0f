/** Row batches as they travel from the API through the WAL into segments. */
import type { PrimaryKey, Value } from './types.ts';

/**
 * Validated rows of one insert or upsert in columnar form. `columns` has one array per declared
 * field (the primary key included, once assigned), each `rowCount` long, values typed as `Value`
 * says (FloatVector values are Float32Array of length dim). `dynamic` holds the `$meta` object of
 * each row when the collection has a dynamic field, else it is null.
 */
export interface InsertBatch {
  rowCount: number;
  columns: Map<string, Value[]>;
  dynamic: (Record<string, unknown> | null)[] | null;
}

/** The primary keys of a batch, in row order. */
export function batchPrimaryKeys(batch: InsertBatch, pkField: string): PrimaryKey[] {
  const col = batch.columns.get(pkField);
  if (!col) throw new Error(`batch has no primary key column '${pkField}'`);
  return col as PrimaryKey[];
}
