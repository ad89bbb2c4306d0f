/**
 * Which querynode serves which segment of a fanned-out read. The proxy sends one read to every
 * querynode of a *view* (the live querynode ids it chose, named in the shard request); each node serves the
 * segments whose rendezvous winner among the view is itself. All nodes get the same view, so every
 * segment is served exactly once; a node dropping out of the view hands only its own segments to
 * the others (rendezvous hashing moves nothing else).
 */
import { segmentPlacementKey, type SegmentScope } from '../engine/segment-scope.ts';
import { rendezvousWeight } from './querynode-registry.ts';

/** The view member that serves `key`: the highest rendezvous weight, ties to the smaller id. */
export function ownerOf(key: string, view: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const id of view) {
    const w = rendezvousWeight(id, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && id < best)) {
      best = id;
      bestWeight = w;
    }
  }
  return best;
}

/** The segments querynode `self` serves under `view`. */
export function viewScope(view: readonly string[], self: string): SegmentScope {
  const owners = new Map<string, boolean>();
  return (meta) => {
    const key = segmentPlacementKey(meta);
    let mine = owners.get(key);
    if (mine === undefined) owners.set(key, (mine = ownerOf(key, view) === self));
    return mine;
  };
}
