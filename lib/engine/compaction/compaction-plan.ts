/**
 * The compactor: merges small flushed segments (up to maxSegmentBytes) and rewrites segments with
 * many deleted rows.
 *
 * It builds the output segment from a snapshot of its inputs and writes its chunks, then commits
 * through the channel's WAL (a `compact` record), so the swap happens at the channel's sequencing
 * point: deletes that arrived meanwhile are carried over, PK-index entries are relocated with the
 * record's timestamp (newer than every earlier mutation of those keys), and a crash at any point
 * replays to the same result.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { EngineConfig } from '../engine-config.ts';
import type { CollectionSchema, PrimaryKey, Value } from '../schema/types.ts';
import { estimatedRowBytes, Segment, type ScalarColumn } from '../segment/segment.ts';
import { VectorColumn } from '../segment/vector-column.ts';

/** Inputs of one compaction: flushed segments of one channel and partition. */
export interface CompactionPlan {
  channel: number;
  partition: string;
  inputs: Segment[];
}

/** One input as the commit record names it: the rows it skipped because they were deleted at snapshot time. */
export interface CompactionInput {
  segmentId: number;
  skipped: number[];
}

/**
 * Chooses work, per channel and partition: segments with ≥ deleteRatio deleted rows are rewritten,
 * and small segments (live size under smallSegmentRatio × maxSegmentBytes) are merged, in creation
 * order, into outputs of at most maxSegmentBytes. Segments that are not small are left alone, so
 * each row's index is rebuilt a bounded number of times (a merge rebuilds its output's HNSW graph,
 * the main cost of compaction): once a merge output is past the small size it is final until
 * deletes make it dirty.
 */
export function planCompactions(segments: Iterable<Segment>, config: EngineConfig, busy: Set<number>): CompactionPlan[] {
  const groups = new Map<string, Segment[]>();
  for (const seg of segments) {
    if (seg.meta.state !== 'Flushed' || busy.has(seg.id)) continue;
    const key = `${seg.meta.channel}/${seg.meta.partition}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(seg);
  }
  const plans: CompactionPlan[] = [];
  for (const list of groups.values()) {
    const maxRows = Math.max(1, Math.floor(config.maxSegmentBytes / estimatedRowBytes(list[0].schema)));
    const small = maxRows * config.smallSegmentRatio;
    list.sort((a, b) => a.id - b.id);
    let current: Segment[] = [];
    let live = 0;
    const close = () => {
      const worth = current.length > 1 || current.some((s) => isDirty(s, config));
      if (worth) plans.push({ channel: current[0].meta.channel, partition: current[0].meta.partition, inputs: current });
      current = [];
      live = 0;
    };
    for (const seg of list) {
      if (seg.liveCount >= small && !isDirty(seg, config)) continue;
      if (live + seg.liveCount > maxRows && current.length > 0) close();
      current.push(seg);
      live += seg.liveCount;
    }
    if (current.length > 0) close();
  }
  return plans;
}

/**
 * Memory a plan takes while it runs, roughly: the output built from the inputs' live rows plus the
 * largest input (inputs are read whole one at a time, each released once copied).
 */
export function compactionBytes(plan: CompactionPlan, schema: CollectionSchema): number {
  const live = plan.inputs.reduce((n, s) => n + s.liveCount, 0);
  const largest = plan.inputs.reduce((n, s) => Math.max(n, s.rowCount), 0);
  return (live + largest) * estimatedRowBytes(schema);
}

/** A segment with enough deleted rows to be worth rewriting. */
function isDirty(seg: Segment, config: EngineConfig): boolean {
  return seg.deletedCount > 0 && seg.deletedCount >= seg.rowCount * config.deleteRatio;
}

/**
 * Builds the merged segment from the inputs' rows that are live now; returns it and what was
 * skipped. `open`, if given, reads an input with its vectors; what it returns is closed once its
 * rows are copied, so only one input is read at a time (each input's skipped rows are those deleted
 * when it was copied; the commit carries over later deletes either way).
 */
export async function buildCompactedSegment(
  meta: SegmentMeta,
  schema: CollectionSchema,
  inputs: Segment[],
  open?: (input: Segment) => Promise<Segment>,
): Promise<{ segment: Segment; inputs: CompactionInput[] }> {
  const pks: PrimaryKey[] = [];
  const rowTs: bigint[] = [];
  const scalarValues = new Map<string, Value[]>();
  const vectors = new Map<string, VectorColumn>();
  const live = inputs.reduce((n, s) => n + s.liveCount, 0);
  for (const f of schema.fields) {
    if (f.isPrimary) continue;
    if (f.dataType === 'FloatVector') vectors.set(f.name, new VectorColumn(f.dim!, undefined, live));
    else scalarValues.set(f.name, []);
  }
  const dynamic: (Record<string, unknown> | null)[] | null = schema.enableDynamicField ? [] : null;
  const described: CompactionInput[] = [];
  for (const input of inputs) {
    // Without `open` nothing is awaited: the snapshot of every input is taken in one synchronous pass.
    const seg = open ? await open(input) : input;
    try {
      const skipped: number[] = [];
      const dyn = seg.dynamicColumn();
      for (let o = 0; o < seg.rowCount; o++) {
        if (seg.isDeleted(o)) {
          skipped.push(o);
          continue;
        }
        pks.push(seg.pks[o]);
        rowTs.push(seg.rowTs[o]);
        for (const [name, values] of scalarValues) values.push(seg.scalar(name)!.get(o));
        for (const [name, column] of vectors) column.push(seg.vectors(name).get(o));
        dynamic?.push(dyn ? dyn[o] : null);
      }
      described.push({ segmentId: input.id, skipped });
    } finally {
      if (seg !== input) seg.close();
    }
  }
  const scalars = new Map<string, ScalarColumn>();
  for (const [name, values] of scalarValues) scalars.set(name, { get: (i) => values[i] });
  meta.rowCount = pks.length;
  return { segment: Segment.sealed(meta, schema, { pks, rowTs, scalars, vectors, dynamic }), inputs: described };
}
