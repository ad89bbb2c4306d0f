/**
 * A segment in memory: the rows of one channel of one partition, columnar, with a delete bitmap
 * and, once sealed and indexed, an HNSW index per vector field. Growing segments append rows; sealed
 * segments are immutable except for their delete bitmap.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { VectorIndex } from '../ports/vector-index.ts';
import type { RowSource } from '../schema/row-source.ts';
import type { CollectionSchema, PrimaryKey, Value } from '../schema/types.ts';
import { VectorColumn } from './vector-column.ts';

/** Read access to one scalar column. */
export interface ScalarColumn {
  get(offset: number): Value;
}

/** A scalar column that grows (growing segments). */
class ArrayColumn implements ScalarColumn {
  readonly values: Value[] = [];
  get(offset: number): Value {
    return this.values[offset];
  }
}

/** Address space a growing segment's vector column reserves up front, at most (it grows past it by doubling). */
const MAX_RESERVED_VECTOR_BYTES = 256 * 1024 * 1024;

/**
 * Bytes one row takes in memory, roughly: the estimate segments are sealed and merged by
 * (16 bytes of bookkeeping, 4 per vector dimension, 16 per other field).
 */
export function estimatedRowBytes(schema: CollectionSchema): number {
  let n = 16;
  for (const f of schema.fields) n += f.dataType === 'FloatVector' ? 4 * f.dim! : 16;
  return n;
}

/** Rows a growing segment will hold when it is sealed: the seal thresholds pinned in its meta. */
function growingCapacity(meta: SegmentMeta, schema: CollectionSchema): number {
  let vectorBytes = 0;
  for (const f of schema.fields) if (f.dataType === 'FloatVector') vectorBytes = Math.max(vectorBytes, 4 * f.dim!);
  const sealAt = Math.min(meta.sealRows ?? Infinity, Math.ceil((meta.sealBytes ?? Infinity) / estimatedRowBytes(schema)));
  if (!Number.isFinite(sealAt) || vectorBytes === 0) return 64;
  return Math.max(64, Math.min(sealAt + 1, Math.floor(MAX_RESERVED_VECTOR_BYTES / vectorBytes)));
}

/** One segment's rows. */
export class Segment implements RowSource {
  /**
   * Primary key of each row: an array while the segment grows; for a segment read from storage
   * with Int64 keys, a BigInt64Array view of the chunk (indexing it yields bigint all the same).
   */
  readonly pks: ArrayLike<PrimaryKey>;
  /** Insert timestamp of each row (an array while growing, a BigUint64Array view once read from storage). */
  readonly rowTs: ArrayLike<bigint>;
  private readonly scalars = new Map<string, ScalarColumn>();
  private readonly vectorColumns = new Map<string, VectorColumn>();
  private dynamicValues: (Record<string, unknown> | null)[] | null;
  private deletedBits: Uint8Array;
  /** Rows deleted so far. */
  deletedCount = 0;
  /** Offsets deleted since the last delta log was written. */
  pendingDeletes: number[] = [];
  /**
   * Set once the segment is flushed: its rows are no longer replayed from the WAL, so the applier
   * must write a delta log for every delete on it before the mutation counts as applied.
   */
  syncDeletes = false;
  /** Vector field name → built index (sealed segments). */
  readonly indexes = new Map<string, VectorIndex>();
  /**
   * False while the segment's vectors stay on local disk (read row by row when asked for) and no
   * index is attached: a flushed segment outside this process's share (its role’s residency).
   */
  resident = true;
  /** When a read last needed this segment's vectors (ms since the epoch; 0 = never). */
  lastReadAt = 0;

  private constructor(
    readonly meta: SegmentMeta,
    readonly schema: CollectionSchema,
    parts: {
      pks: ArrayLike<PrimaryKey>;
      rowTs: ArrayLike<bigint>;
      scalars?: Map<string, ScalarColumn>;
      vectors?: Map<string, VectorColumn>;
      dynamic: (Record<string, unknown> | null)[] | null;
    },
  ) {
    this.pks = parts.pks;
    this.rowTs = parts.rowTs;
    this.dynamicValues = parts.dynamic;
    const capacity = parts.vectors ? 0 : growingCapacity(meta, schema);
    for (const f of schema.fields) {
      if (f.isPrimary) continue;
      if (f.dataType === 'FloatVector') this.vectorColumns.set(f.name, parts.vectors?.get(f.name) ?? new VectorColumn(f.dim!, undefined, capacity));
      else this.scalars.set(f.name, parts.scalars?.get(f.name) ?? new ArrayColumn());
    }
    this.deletedBits = new Uint8Array(Math.max(64, this.pks.length));
  }

  /** A new, empty growing segment. */
  static growing(meta: SegmentMeta, schema: CollectionSchema): Segment {
    return new Segment(meta, schema, { pks: [], rowTs: [], dynamic: schema.enableDynamicField ? [] : null });
  }

  /** A sealed segment from decoded columns. */
  static sealed(
    meta: SegmentMeta,
    schema: CollectionSchema,
    parts: {
      pks: ArrayLike<PrimaryKey>;
      rowTs: ArrayLike<bigint>;
      scalars: Map<string, ScalarColumn>;
      vectors: Map<string, VectorColumn>;
      dynamic: (Record<string, unknown> | null)[] | null;
    },
  ): Segment {
    return new Segment(meta, schema, parts);
  }

  get id(): number {
    return this.meta.segmentId;
  }

  /** Rows stored (deleted ones included). */
  get rowCount(): number {
    return this.pks.length;
  }

  /** Rows not deleted. */
  get liveCount(): number {
    return this.pks.length - this.deletedCount;
  }

  /**
   * Appends row `row` of `columns` (one value array per schema field, in schema order); returns
   * the row's offset in the segment.
   */
  append(pk: PrimaryKey, ts: bigint, columns: Value[][], row: number, dynamic: Record<string, unknown> | null): number {
    const offset = this.pks.length;
    // Only growing segments append, and theirs are plain arrays.
    (this.pks as PrimaryKey[]).push(pk);
    (this.rowTs as bigint[]).push(ts);
    const fields = this.schema.fields;
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f];
      if (field.isPrimary) continue;
      if (field.dataType === 'FloatVector') this.vectorColumns.get(field.name)!.push(columns[f][row] as Float32Array);
      else (this.scalars.get(field.name) as ArrayColumn).values.push(columns[f][row]);
    }
    if (this.dynamicValues) this.dynamicValues.push(dynamic);
    if (offset >= this.deletedBits.length) {
      const next = new Uint8Array(this.deletedBits.length * 2);
      next.set(this.deletedBits);
      this.deletedBits = next;
    }
    return offset;
  }

  /** Marks a row deleted; idempotent. Returns whether it was live. */
  markDeleted(offset: number): boolean {
    if (offset >= this.pks.length || this.deletedBits[offset]) return false;
    this.deletedBits[offset] = 1;
    this.deletedCount++;
    this.pendingDeletes.push(offset);
    return true;
  }

  /** Undoes markDeleted of a row (rolling back a mutation whose apply failed). */
  unmarkDeleted(offset: number): void {
    if (!this.deletedBits[offset]) return;
    this.deletedBits[offset] = 0;
    this.deletedCount--;
    const i = this.pendingDeletes.lastIndexOf(offset);
    if (i >= 0) this.pendingDeletes.splice(i, 1);
  }

  /** Drops rows appended after the first `rowCount` (rolling back a failed apply on a growing segment). */
  truncate(rowCount: number): void {
    if (rowCount >= this.pks.length) return;
    for (let o = rowCount; o < this.pks.length; o++) if (this.deletedBits[o]) this.unmarkDeleted(o);
    (this.pks as PrimaryKey[]).length = rowCount;
    (this.rowTs as bigint[]).length = rowCount;
    for (const c of this.scalars.values()) if (c instanceof ArrayColumn) c.values.length = rowCount;
    for (const v of this.vectorColumns.values()) v.truncate(rowCount);
    if (this.dynamicValues) this.dynamicValues.length = rowCount;
  }

  /** Applies offsets from a persisted delta log (not re-queued for persistence). */
  applyDeltaLog(offsets: Iterable<number>): void {
    for (const o of offsets) {
      if (o < this.pks.length && !this.deletedBits[o]) {
        this.deletedBits[o] = 1;
        this.deletedCount++;
      }
    }
  }

  isDeleted(offset: number): boolean {
    return this.deletedBits[offset] === 1;
  }

  /**
   * The vectors of a field. A column read lazily (see vector-column.ts) is completed first unless
   * an index file covers the field: without one, the caller may be about to build it from data().
   */
  vectors(field: string): VectorColumn {
    const c = this.vectorColumns.get(field);
    if (!c) throw new Error(`segment ${this.id} has no vector field '${field}'`);
    // A released segment's column stays lazy: rows are read one by one and it is not kept in memory.
    if (c.loading && this.resident && !this.meta.indexFiles[field]) c.ensureLoaded();
    return c;
  }

  /** The scalar column of a field (not the primary key). */
  scalar(field: string): ScalarColumn | undefined {
    return this.scalars.get(field);
  }

  /** The dynamic values, or null when the schema has no dynamic field. */
  dynamicColumn(): (Record<string, unknown> | null)[] | null {
    return this.dynamicValues;
  }

  column(fieldName: string): (offset: number) => Value {
    const f = this.schema.fields.find((x) => x.name === fieldName);
    if (!f) throw new Error(`no field '${fieldName}'`);
    if (f.isPrimary) {
      const pks = this.pks;
      return (o) => pks[o];
    }
    if (f.dataType === 'FloatVector') {
      const v = this.vectorColumns.get(f.name)!;
      return (o) => v.get(o);
    }
    const c = this.scalars.get(f.name)!;
    return (o) => c.get(o);
  }

  dynamic(): (offset: number) => Record<string, unknown> | null {
    const d = this.dynamicValues;
    return d ? (o) => d[o] : () => null;
  }

  /** The vector column of a field as it is (a lazy one is not completed). */
  vectorColumn(field: string): VectorColumn {
    const c = this.vectorColumns.get(field);
    if (!c) throw new Error(`segment ${this.id} has no vector field '${field}'`);
    return c;
  }

  /**
   * Stops keeping the segment in memory: closes its indexes and swaps each vector column for the
   * given lazy one over the same rows on local disk.
   */
  release(coldColumns: Map<string, VectorColumn>): void {
    for (const idx of this.indexes.values()) idx.close();
    this.indexes.clear();
    this.swapVectorColumns(coldColumns);
    this.resident = false;
  }

  /** Replaces vector columns with others over the same rows (closing the old ones). */
  swapVectorColumns(columns: Map<string, VectorColumn>): void {
    for (const [field, column] of columns) {
      const old = this.vectorColumn(field);
      if (column.length !== old.length) throw new Error(`segment ${this.id} field '${field}': the new column has ${column.length} rows, the segment ${old.length}`);
      old.close();
      this.vectorColumns.set(field, column);
    }
  }

  /** Releases native index memory and stops background reads of vector columns. */
  close(): void {
    for (const idx of this.indexes.values()) idx.close();
    this.indexes.clear();
    for (const c of this.vectorColumns.values()) c.close();
  }
}
