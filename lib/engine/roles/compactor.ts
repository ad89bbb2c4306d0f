/** The AWS compactor's role: loads every segment without vectors to plan, reads inputs whole one plan at a time, applies no channel. */
import { IndexerHandoff, type IndexSegment } from '../index/indexer-handoff.ts';
import { VectorlessSegments } from '../read/vectorless-segments.ts';
import type { CollectionRole } from './collection-role.ts';

/** The compactor's role; `indexSegment` hands compaction outputs to the indexer. */
export function compactorRole(indexSegment: IndexSegment): CollectionRole {
  return (state) => ({ share: { loads: () => true, applies: () => false }, indexes: new IndexerHandoff(state, indexSegment), segments: new VectorlessSegments(state) });
}
