/**
 * The AWS querynode's role: applies every channel into private stores with a PK index seeded from
 * the loaded segments, keeps its share of the flushed segments resident (the others cold on local
 * disk until a read's scope takes them in), and adopts the indexer's index files for the segments
 * it seals itself.
 */
import { seedPkIndex } from '../collection/seed-pk-index.ts';
import { SharedIndexAdopter, type SharedIndexLookup } from '../index/shared-index-adopter.ts';
import { Residency, type ResidencyPolicy } from '../read/residency.ts';
import { EVERY_CHANNEL, type CollectionRole } from './collection-role.ts';

/** The querynode's role: `resident` names its share, `sharedIndexFile` finds the indexer's files. */
export function querynodeRole(resident: ResidencyPolicy, sharedIndexFile: SharedIndexLookup): CollectionRole {
  return (state) => {
    const indexes = new SharedIndexAdopter(state, sharedIndexFile);
    return { share: EVERY_CHANNEL, indexes, segments: new Residency(state, indexes, resident), beforeReplay: () => seedPkIndex(state) };
  };
}
