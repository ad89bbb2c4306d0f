/**
 * Which querynodes hold and serve which segment. Every segment has R *holders* (the `replicas`
 * setting): the R members of the fleet with the highest rendezvous weight for its key, in that
 * order. A node keeps resident the segments it holds under the live fleet. The proxy sends one read
 * to every querynode of a *view* (the live ids it answers from; the fleet minus nodes that failed
 * during the read), naming the fleet, R and a replica number r it picked at random: each segment is
 * served by its r-th holder in the view (modulo the holders left in it), or, when none of its
 * holders is, by its rendezvous winner among the view. Every node derives the same answer from the
 * request alone, so every segment is served exactly once; reads with different r spread a
 * segment's load over its holders, and with R ≥ 2 a failed node's segments are served by a node
 * that already holds them. Rendezvous hashing moves only a leaving node's segments.
 */
import { segmentPlacementKey, type SegmentScope } from '../engine/segment-scope.ts';
import type { Placement } from '../engine/read/shard-protocol.ts';
import { rendezvousWeight } from './querynode-registry.ts';

/** The `count` members of `nodes` that hold `key`, best first: highest rendezvous weight, ties to the smaller id. */
export function holdersOf(key: string, nodes: readonly string[], count: number): string[] {
  const weighted = nodes.map((id) => ({ id, w: rendezvousWeight(id, key) }));
  weighted.sort((a, b) => b.w - a.w || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return weighted.slice(0, count).map((n) => n.id);
}

/** The view member that serves `key` as replica 0: its first holder. */
export function ownerOf(key: string, view: readonly string[]): string | undefined {
  return holdersOf(key, view, 1)[0];
}

/** The view member that serves `key` under `placement` (see the header). */
export function servingNode(key: string, placement: Placement): string | undefined {
  const { view, fleet = view, replicas = 1, replica = 0 } = placement;
  const holders = holdersOf(key, fleet, replicas).filter((id) => view.includes(id));
  return holders.length > 0 ? holders[replica % holders.length] : ownerOf(key, view);
}

/** The segments querynode `self` serves under `placement`. */
export function viewScope(placement: Placement, self: string): SegmentScope {
  const serves = new Map<string, boolean>();
  return (meta) => {
    const key = segmentPlacementKey(meta);
    let mine = serves.get(key);
    if (mine === undefined) serves.set(key, (mine = servingNode(key, placement) === self));
    return mine;
  };
}
