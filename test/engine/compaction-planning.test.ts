/** planCompactions: small segments merge by size up to maxSegmentBytes; large ones stay unless dirty. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SegmentMeta } from '../../lib/engine/catalog/catalog.ts';
import { planCompactions } from '../../lib/engine/compaction/compaction-plan.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../lib/engine/engine-config.ts';
import type { CollectionSchema } from '../../lib/engine/schema/types.ts';
import { estimatedRowBytes, Segment } from '../../lib/engine/segment/segment.ts';
import { field } from '../support/data.ts';

const SCHEMA: CollectionSchema = {
  enableDynamicField: false,
  fields: [field(100, 'id', 'Int64', { isPrimary: true }), field(101, 'v', 'FloatVector', { dim: 4 })],
};
const ROW = estimatedRowBytes(SCHEMA); // 16 + 16 + 16 = 48 bytes
/** Segments of at most 100 rows at this row size. */
const CONFIG: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, maxSegmentBytes: 100 * ROW, smallSegmentRatio: 0.5 };

function segment(id: number, rows: number, opts: { deleted?: number; channel?: number; partition?: string; state?: SegmentMeta['state'] } = {}): Segment {
  const meta: SegmentMeta = {
    segmentId: id,
    collectionId: 1,
    partition: opts.partition ?? '_default',
    channel: opts.channel ?? 0,
    state: opts.state ?? 'Flushed',
    startPosition: 0n,
    prevTs: 0n,
    rowCount: rows,
    sealRows: CONFIG.sealRows,
    sealBytes: CONFIG.sealBytes,
    indexFiles: {},
  };
  const seg = Segment.growing(meta, SCHEMA);
  const pks: bigint[][] = [[]];
  for (let i = 0; i < rows; i++) seg.append(BigInt(id * 1000 + i), 1n, [pks[0], [new Float32Array(4)] as never], 0, null);
  for (let i = 0; i < (opts.deleted ?? 0); i++) seg.markDeleted(i);
  return seg;
}

const ids = (plans: ReturnType<typeof planCompactions>) => plans.map((p) => p.inputs.map((s) => s.id));

describe('planCompactions', () => {
  it('merges small segments in creation order into outputs of at most maxSegmentBytes', () => {
    const segs = [segment(1, 30), segment(2, 30), segment(3, 30), segment(4, 30), segment(5, 20)];
    assert.deepEqual(ids(planCompactions(segs, CONFIG, new Set())), [
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('leaves segments past the small size alone, and a lone small segment too', () => {
    assert.deepEqual(ids(planCompactions([segment(1, 60), segment(2, 90), segment(3, 10)], CONFIG, new Set())), []);
  });

  it('rewrites a dirty segment of any size, and merges across non-adjacent small ones', () => {
    const segs = [segment(1, 100, { deleted: 25 }), segment(2, 30), segment(3, 70), segment(4, 10)];
    assert.deepEqual(ids(planCompactions(segs, CONFIG, new Set())), [[1], [2, 4]]);
  });

  it('groups by channel and partition, and skips busy and unflushed segments', () => {
    const segs = [segment(1, 10), segment(2, 10, { channel: 1 }), segment(3, 10, { partition: 'p' }), segment(4, 10), segment(5, 10, { state: 'Sealed' }), segment(6, 10)];
    assert.deepEqual(ids(planCompactions(segs, CONFIG, new Set([6]))), [[1, 4]]);
  });

  it('by default a 1M × 128 collection sealed at 128 MiB merges into one segment', () => {
    const schema: CollectionSchema = {
      enableDynamicField: false,
      fields: [field(100, 'id', 'Int64', { isPrimary: true }), field(101, 'v', 'FloatVector', { dim: 128 }), field(102, 'b', 'Int32')],
    };
    const perSegment = Math.floor(DEFAULT_ENGINE_CONFIG.sealBytes / estimatedRowBytes(schema));
    const maxRows = Math.floor(DEFAULT_ENGINE_CONFIG.maxSegmentBytes / estimatedRowBytes(schema));
    assert.ok(perSegment > 200_000 && maxRows >= 1_000_000, `${perSegment} rows sealed, ${maxRows} merged`);
  });
});
