/** Read access to the rows of one segment, used by filter evaluation and result materialization. */
import type { Value } from './types.ts';

/** Column accessors by row offset; fetched once per segment, then called per row. */
export interface RowSource {
  /** Number of rows (offsets 0 … rowCount-1). */
  readonly rowCount: number;
  /** Accessor for a declared field's value at a row offset (null for a null value). */
  column(fieldName: string): (offset: number) => Value;
  /** Accessor for the row's dynamic-field (`$meta`) object; null when the row has none. */
  dynamic(): (offset: number) => Record<string, unknown> | null;
}
