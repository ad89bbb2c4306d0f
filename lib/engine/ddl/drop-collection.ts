/**
 * Dropping a collection: the drop intent is made durable in the catalog before anything is
 * deleted, then every trace goes (WAL channels, objects, PK index, metadata); a drop a crash
 * interrupted is finished by the next open. A damaged collection can be dropped too. The caller
 * runs drops on the database's DDL queue.
 */
import { collectionObjectPrefixes } from '../catalog/key-layout.ts';
import { channelName } from '../channel-state.ts';
import type { RuntimeDeps } from '../collection/collection-state.ts';
import type { OpenCollections } from '../collection/open-collections.ts';
import { invalidParameter } from '../errors.ts';
import { PkIndex } from '../pk-index.ts';
import type { Logger } from '../ports/logger.ts';
import type { CollectionInfo } from '../schema/types.ts';

/** Drops the collection called `name` (not an alias); nothing happens when there is none. */
export async function dropCollection(collections: OpenCollections, deps: RuntimeDeps, db: string, name: string): Promise<void> {
  const rt = collections.find(db, name);
  const damaged = rt ? undefined : collections.findDamaged(name);
  if (damaged) {
    if (damaged.info.name !== name) throw invalidParameter(`${name} is an alias of ${damaged.info.name}; drop the collection by its name`);
    await deps.catalog.markDropping(damaged.info);
    collections.damaged.delete(damaged.info.collectionId);
    await removeDropped(deps, damaged.info);
    return;
  }
  if (!rt) return;
  if (rt.info.name !== name) throw invalidParameter(`${name} is an alias of ${rt.info.name}; drop the alias, or drop the collection by its name`);
  await deps.catalog.markDropping(rt.info);
  await collections.close(rt.info.collectionId);
  await removeDropped(deps, rt.info);
}

/** Finishes drops a crash interrupted (their collections are no longer listed; their files still are). */
export async function finishPendingDrops(deps: RuntimeDeps, log: Logger): Promise<void> {
  for (const info of await deps.catalog.listDropping()) {
    try {
      await removeDropped(deps, info);
    } catch (error) {
      log.error(`finishing the drop of collection ${info.name} (id ${info.collectionId}) failed; it is retried on the next start`, { collection: info.name, error });
    }
  }
}

/** Deletes every trace of a collection whose drop intent is recorded. */
async function removeDropped(deps: RuntimeDeps, info: CollectionInfo): Promise<void> {
  const channels = Array.from({ length: info.shardsNum }, (_, i) => channelName(info.collectionId, i));
  for (const ch of channels) await deps.wal.dropChannel(ch);
  for (const prefix of collectionObjectPrefixes(info.collectionId)) await deps.objects.deletePrefix(prefix);
  await new PkIndex(deps.catalog.kv, info.collectionId).drop();
  await deps.catalog.finishDrop(info.collectionId, channels);
}
