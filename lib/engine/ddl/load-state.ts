/**
 * Load and release: a collection serves reads once loaded, which needs an index on every vector
 * field (Milvus's rule); a damaged collection reports NotLoad with the damage as its message.
 */
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import { damagedError, type OpenCollections } from '../collection/open-collections.ts';
import type { LoadState } from '../database.ts';
import { CollectionNotFoundError, IndexNotFoundError } from '../errors.ts';

/** Marks a collection loaded; refused while a vector field has no index. */
export async function loadCollection(rt: CollectionRuntime): Promise<void> {
  const missing = rt.info.schema.fields.filter((f) => f.dataType === 'FloatVector' && !rt.state.indexOf(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw new IndexNotFoundError(
      rt.info.name,
      undefined,
      `there is no vector index on field: [${missing.join(', ')}], please create index firstly: collection=${rt.info.name}: index not found`,
    );
  }
  if (rt.info.loaded) return;
  rt.info.loaded = true;
  await rt.state.deps.catalog.putCollection(rt.info);
}

/** Marks a collection released (reads are refused until it is loaded again). */
export async function releaseCollection(rt: CollectionRuntime): Promise<void> {
  if (!rt.info.loaded) return;
  rt.info.loaded = false;
  await rt.state.deps.catalog.putCollection(rt.info);
}

/** A collection's load state, as get_load_state reports it. */
export function loadState(collections: OpenCollections, db: string, name: string): { loadState: LoadState; loadProgress: number; message?: string } {
  const rt = collections.find(db, name);
  const damaged = rt ? undefined : collections.findDamaged(name);
  if (damaged) return { loadState: 'LoadStateNotLoad', loadProgress: 0, message: damagedError(damaged).message };
  if (!rt) throw new CollectionNotFoundError(name, undefined, `collection not found[collection=${name}]`);
  return rt.info.loaded ? { loadState: 'LoadStateLoaded', loadProgress: 100 } : { loadState: 'LoadStateNotLoad', loadProgress: 0 };
}
