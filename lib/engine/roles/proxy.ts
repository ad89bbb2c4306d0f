/** The AWS proxy's role (the API Lambda): writes and DDL only — it loads no segment, applies no channel, and hands index work to the indexer. */
import { IndexerHandoff, type IndexSegment } from '../index/indexer-handoff.ts';
import { VectorlessSegments } from '../read/vectorless-segments.ts';
import type { CollectionRole } from './collection-role.ts';

/** The proxy's role; `indexSegment` hands a segment to the indexer (after createIndex). */
export function proxyRole(indexSegment: IndexSegment): CollectionRole {
  return (state) => ({ share: { loads: () => false, applies: () => false }, indexes: new IndexerHandoff(state, indexSegment), segments: new VectorlessSegments(state) });
}
