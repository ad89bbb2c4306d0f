/**
 * The AWS querynode's role: applies every channel into private stores with a PK index seeded from
 * the loaded segments, keeps its share of the flushed segments resident (the others remote until a
 * read's scope takes them in), and, for the segments it seals itself, adopts the indexer's index
 * files and, outside its share, reads the datanode's chunks of the same rows instead of its own.
 */
import { seedPkIndex } from '../collection/seed-pk-index.ts';
import { SharedIndexAdopter } from '../index/shared-index-adopter.ts';
import { Residency, type ResidencyPolicy, type SharedTwinLookup } from '../read/residency.ts';
import { EVERY_CHANNEL, type CollectionRole } from './collection-role.ts';

/** The querynode's role: `resident` names its share, `twin` finds the shared segment with a segment's rows (the indexer's files are on it). */
export function querynodeRole(resident: ResidencyPolicy, twin: SharedTwinLookup): CollectionRole {
  return (state) => {
    const indexes = new SharedIndexAdopter(state, async (meta, field) => (await twin(meta))?.indexFiles[field]);
    return { share: EVERY_CHANNEL, indexes, segments: new Residency(state, indexes, resident, twin), beforeReplay: () => seedPkIndex(state) };
  };
}
