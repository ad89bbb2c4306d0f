/**
 * Running compactions (the compactor's role, and the embedded deployment's timer): plans from the
 * current segments, builds each output and writes it to the object store, then appends a
 * compaction record to the channel — the channel's applier commits it (compaction-commit.ts), which
 * keeps the PK index exact against concurrent writes.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { WalRecordBody } from '../codec/wal-record-codec.ts';
import { buildCompactedSegment, compactionBytes, planCompactions, type CompactionPlan } from './compaction-plan.ts';
import type { Visibility } from '../read/visibility.ts';
import type { ChannelShare, SegmentSource } from '../roles/collection-role.ts';
import { writeSegmentChunks } from '../segment/segment-io.ts';
import { segmentPlacementKey } from '../segment-scope.ts';
import type { ChannelWriter } from '../write/channel-writer.ts';
import type { CompactionCommit } from './compaction-commit.ts';

/** The memory a compaction run may use (the AWS compactor's): plans needing more are deferred and reported. */
export interface CompactionBudget {
  bytes: number;
  onDefer(plan: CompactionPlan, bytes: number): void;
}

/** Plans, builds and proposes a collection's compactions. */
export class CompactionRunner {
  constructor(
    private readonly s: CollectionState,
    private readonly share: ChannelShare,
    private readonly segments: SegmentSource,
    private readonly writer: ChannelWriter,
    private readonly visibility: Visibility,
    private readonly committer: CompactionCommit,
  ) {}

  /**
   * Runs the compactions the current segments call for, one at a time, and waits until each is
   * committed; with a `budget`, plans needing more memory are deferred. Returns the plans executed.
   */
  async compact(budget?: CompactionBudget): Promise<number> {
    const plans = planCompactions(this.s.segments.values(), this.s.config, this.s.compacting);
    let done = 0;
    // One plan at a time: memory holds one plan's inputs and output, never every plan's.
    for (const plan of plans) {
      const bytes = compactionBytes(plan, this.s.info.schema);
      if (budget && bytes > budget.bytes) {
        budget.onDefer(plan, bytes);
        continue;
      }
      for (const seg of plan.inputs) this.s.compacting.add(seg.id);
      try {
        await this.run(plan);
        done++;
      } finally {
        for (const seg of plan.inputs) this.s.compacting.delete(seg.id);
      }
    }
    return done;
  }

  private async run(plan: CompactionPlan): Promise<void> {
    const s = this.s;
    const ch = s.channels[plan.channel];
    const meta: SegmentMeta = {
      segmentId: await s.deps.catalog.allocateId(),
      collectionId: s.info.collectionId,
      partition: plan.partition,
      channel: plan.channel,
      state: 'Flushed',
      startPosition: 0n,
      prevTs: 0n,
      rowCount: 0,
      sealRows: s.config.sealRows,
      sealBytes: s.config.sealBytes,
      indexFiles: {},
      compactedFrom: plan.inputs.map((seg) => seg.id),
    };
    const { segment, inputs: described } = await buildCompactedSegment(meta, s.info.schema, plan.inputs, this.segments.readWhole);
    // Processes that sealed an input themselves know it under another id (a querynode's private
    // ids): the placement key, the same everywhere, lets them find it (older records lack it).
    const inputs = described.map((input, i) => ({ ...input, placementKey: segmentPlacementKey(plan.inputs[i].meta) }));
    await writeSegmentChunks(s.deps.objects, segment, s.info.schema);
    this.committer.pendingOutputs.set(meta.segmentId, segment);
    try {
      const record = (t: bigint): WalRecordBody => ({
        kind: 'compact',
        ts: t,
        collectionId: s.info.collectionId,
        partition: plan.partition,
        outputSegmentId: meta.segmentId,
        inputs,
      });
      const ts = await this.writer.appendRecords((t) => new Map([[ch, record(t)]]));
      // The channel's applier commits it; when that is another process, this one is done.
      if (this.share.applies(ch.name)) await this.visibility.waitForTs(ts, s.config.consistencyTimeoutMs * 6);
    } finally {
      this.committer.pendingOutputs.delete(meta.segmentId);
    }
  }
}
