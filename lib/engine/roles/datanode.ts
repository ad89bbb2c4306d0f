/**
 * The AWS datanode's role (the ingest Lambda): applies the channels of its Kinesis batch, with
 * segments opened without vectors, and hands flushed segments to the indexer.
 */
import { IndexerHandoff, type IndexSegment } from '../index/indexer-handoff.ts';
import { VectorlessSegments } from '../read/vectorless-segments.ts';
import type { CollectionRole } from './collection-role.ts';

/** The datanode's role over the channels in `applying` (the set changes per invocation; the collection is reopened when it does). */
export function datanodeRole(applying: ReadonlySet<string>, indexSegment: IndexSegment): CollectionRole {
  const share = { loads: (ch: string) => applying.has(ch), applies: (ch: string) => applying.has(ch) };
  return (state) => ({ share, indexes: new IndexerHandoff(state, indexSegment), segments: new VectorlessSegments(state) });
}
