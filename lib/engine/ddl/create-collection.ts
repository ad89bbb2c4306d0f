/**
 * Creating a collection: the name must be free of collections and aliases (damaged ones
 * included); the description gets its id, default partition and index specs, is stored in the
 * catalog and opened. It loads at once when asked and every vector field has an index, as Milvus's
 * quick setup does. The caller runs it on the database's DDL queue.
 */
import type { RuntimeDeps } from '../collection/collection-state.ts';
import { DEFAULT_DB, type OpenCollections } from '../collection/open-collections.ts';
import type { CollectionSpec } from '../database.ts';
import { InvalidParameterError, invalidParameter } from '../errors.ts';
import type { CollectionInfo } from '../schema/types.ts';
import { validateCollectionSpec } from '../schema/validate-spec.ts';
import { addIndex, allVectorFieldsIndexed } from './indexes.ts';
import { DEFAULT_PARTITION } from './partitions.ts';

/** Creates and opens a collection. */
export async function createCollection(collections: OpenCollections, deps: RuntimeDeps, db: string, spec: CollectionSpec): Promise<void> {
  validateCollectionSpec(spec);
  const existing = collections.find(db, spec.name) ?? collections.findDamaged(spec.name);
  if (existing) {
    if (existing.info.name !== spec.name) throw invalidParameter(`collection name ${spec.name} conflicts with an existing alias`);
    throw new InvalidParameterError(`collection already exists: ${spec.name}; drop it first or choose another name`);
  }
  const info: CollectionInfo = {
    collectionId: await deps.catalog.allocateId(),
    name: spec.name,
    dbName: DEFAULT_DB,
    description: spec.description,
    schema: spec.schema,
    shardsNum: spec.shardsNum,
    consistencyLevel: spec.consistencyLevel,
    partitions: [DEFAULT_PARTITION],
    indexes: [],
    aliases: [],
    properties: spec.properties,
    loaded: false,
    createdTs: deps.tso.allocate(),
  };
  for (const idx of spec.indexes) addIndex(info, idx);
  info.loaded = spec.load && info.indexes.length > 0 && allVectorFieldsIndexed(info);
  await deps.catalog.putCollection(info);
  await collections.open(info);
}
