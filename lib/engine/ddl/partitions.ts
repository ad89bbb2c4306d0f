/**
 * Partitions: named subsets of a collection's rows. A drop hides the partition first (new writes
 * are refused, reads skip it), waits until writes already past the check are applied, then deletes
 * what it holds; a partition created again with that name starts empty. The caller runs changes on
 * the database's DDL queue.
 */
import { validateName } from '../schema/validate-spec.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import { PartitionNotFoundError, invalidParameter } from '../errors.ts';

/** The partition every collection has, and that writes without a partition name go to. */
export const DEFAULT_PARTITION = '_default';

/** The partition a request names (or the default one); throws when the collection has no such partition. */
export function partitionOf(rt: CollectionRuntime, partitionName: string | undefined): string {
  const p = partitionName || DEFAULT_PARTITION;
  if (!rt.info.partitions.includes(p)) throw new PartitionNotFoundError(rt.info.name, p);
  return p;
}

/** Partition DDL. */
export class PartitionDdl {
  constructor(private readonly catalog: Catalog) {}

  /** Adds a partition, after deleting leftovers of an earlier one of that name. */
  async create(rt: CollectionRuntime, partition: string): Promise<void> {
    validateName('partition', partition);
    if (rt.info.partitions.includes(partition)) throw invalidParameter(`partition already exists[partition=${partition}]`);
    await rt.purgeDroppedPartitions();
    rt.info.partitions.push(partition);
    await this.catalog.putCollection(rt.info);
  }

  /** Drops a partition and deletes its rows; `caughtUp` waits until every acknowledged write is applied. */
  async drop(rt: CollectionRuntime, partition: string, caughtUp: (rt: CollectionRuntime) => Promise<void>): Promise<void> {
    if (partition === DEFAULT_PARTITION) throw invalidParameter('default partition cannot be deleted');
    if (!rt.info.partitions.includes(partition)) return;
    rt.info.partitions = rt.info.partitions.filter((p) => p !== partition);
    await this.catalog.putCollection(rt.info);
    await caughtUp(rt);
    await rt.purgeDroppedPartitions();
  }
}
