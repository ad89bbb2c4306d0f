/**
 * Following a catalog that other processes change (AWS roles, querynodes): opens collections that
 * appeared, adopts changed descriptions (an index spec that changed is followed by the role's index
 * scheduler) and closes collections that were dropped. A damaged collection is tried again when its
 * catalog entry changes or its failure may pass.
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { CollectionInfo } from '../schema/types.ts';
import { jsonText, type OpenCollections } from './open-collections.ts';

/**
 * Brings `collections` in line with `source`. `privateCatalog`, where the process keeps its own
 * copy (a querynode), receives changed descriptions; `beforeOpen` prepares a new collection there.
 */
export async function refreshFromCatalog(
  collections: OpenCollections,
  source: Catalog,
  privateCatalog: Catalog | undefined,
  beforeOpen: ((info: CollectionInfo) => Promise<void>) | undefined,
): Promise<void> {
  const { infos, damaged } = await source.scanCollections();
  const seen = new Set(infos.map((i) => i.collectionId));
  for (const d of damaged) seen.add(d.collectionId);
  for (const id of [...collections.runtimes.keys()]) if (!seen.has(id)) await collections.close(id);
  for (const id of collections.damaged.keys()) if (!seen.has(id)) collections.damaged.delete(id);
  for (const d of damaged) if (!collections.runtimes.has(d.collectionId)) collections.markUnreadable(d.collectionId, d.key, d.error);
  for (const info of infos) {
    const rt = collections.runtimes.get(info.collectionId);
    if (!rt) {
      const known = collections.damaged.get(info.collectionId);
      if (known && !known.transient && jsonText(known.info) === jsonText(info)) continue;
      try {
        await beforeOpen?.(info);
      } catch (err) {
        collections.markDamaged(info, `${(err as Error).name}: ${(err as Error).message}`, err as Error, true);
        continue;
      }
      await collections.openOrMarkDamaged(info);
      continue;
    }
    if (jsonText(rt.info) === jsonText(info)) continue;
    // Unchanged index specs keep their identity: builds in flight for them stay valid.
    const before = rt.info.indexes;
    info.indexes = info.indexes.map((s) => before.find((b) => jsonText(b) === jsonText(s)) ?? s);
    const changed = info.schema.fields.filter((f) => before.find((b) => b.fieldName === f.name) !== info.indexes.find((i) => i.fieldName === f.name));
    rt.info = info;
    if (privateCatalog) await privateCatalog.putCollection(info);
    for (const f of changed) await rt.role.indexes.specChangedElsewhere(f.name);
  }
}
