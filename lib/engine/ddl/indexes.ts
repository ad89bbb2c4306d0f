/**
 * Index DDL: a vector field has at most one index spec; creating one (or an identical one again)
 * stores the spec and resets the field's built indexes through the role's index scheduler,
 * describe reports build progress from the segments this process holds, and a loaded collection's
 * index cannot be dropped (Milvus's rule).
 */
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import type { IndexStatus } from '../database.ts';
import { IndexInUseError, IndexNotFoundError, invalidParameter } from '../errors.ts';
import type { CollectionInfo, IndexSpec } from '../schema/types.ts';
import { validateIndexSpecs } from '../schema/validate-spec.ts';
import type { SegmentScope } from '../segment-scope.ts';

/** Adds index specs to a collection (vector fields only) and has the changed fields indexed anew. */
export async function createIndexes(rt: CollectionRuntime, specs: IndexSpec[]): Promise<void> {
  validateIndexSpecs(specs, rt.info.schema);
  const changed: string[] = [];
  for (const spec of specs) if (addIndex(rt.info, spec)) changed.push(spec.fieldName);
  await rt.state.deps.catalog.putCollection(rt.info);
  for (const f of changed) await rt.resetIndexes(f);
}

/** Build progress of a collection's indexes (all, or the one named), over the segments in `scope` (default: all). */
export function describeIndexes(rt: CollectionRuntime, indexName: string, scope?: SegmentScope): IndexStatus[] {
  const specs = rt.info.indexes.filter((i) => !indexName || i.indexName === indexName);
  if (specs.length === 0) throw new IndexNotFoundError(rt.info.name, indexName || undefined, `index not found[indexName=${indexName}]`);
  return specs.map((spec) => {
    let total = 0;
    let indexed = 0;
    let flushedUnindexed = 0;
    for (const seg of rt.segments.values()) {
      if (scope && !scope(seg.meta)) continue;
      total += seg.liveCount;
      if (seg.indexes.has(spec.fieldName) || spec.indexType === 'FLAT') indexed += seg.liveCount;
      else if (seg.meta.state === 'Flushed') flushedUnindexed++;
    }
    return { ...spec, totalRows: total, indexedRows: indexed, pendingRows: total - indexed, state: flushedUnindexed === 0 ? 'Finished' : 'InProgress' };
  });
}

/** Drops an index of a released collection and its built files. */
export async function dropIndex(rt: CollectionRuntime, indexName: string): Promise<void> {
  const spec = rt.info.indexes.find((i) => i.indexName === indexName);
  if (!spec) throw new IndexNotFoundError(rt.info.name, indexName, `index not found[indexName=${indexName}]`);
  if (rt.info.loaded) throw new IndexInUseError(rt.info.name, indexName);
  rt.info.indexes = rt.info.indexes.filter((i) => i !== spec);
  await rt.state.deps.catalog.putCollection(rt.info);
  await rt.resetIndexes(spec.fieldName);
}

/** Adds or replaces a field's index spec; returns whether anything changed. */
export function addIndex(info: CollectionInfo, spec: IndexSpec): boolean {
  const sameName = info.indexes.find((i) => i.indexName === spec.indexName);
  const sameField = info.indexes.find((i) => i.fieldName === spec.fieldName);
  if (sameField) {
    const identical =
      sameField.indexName === spec.indexName &&
      sameField.indexType === spec.indexType &&
      sameField.metricType === spec.metricType &&
      sameField.M === spec.M &&
      sameField.efConstruction === spec.efConstruction &&
      sameField.quantization === spec.quantization;
    if (identical) return false;
    throw invalidParameter(`CreateIndex failed: at most one distinct index is allowed per field (field ${spec.fieldName} already has index ${sameField.indexName}); drop it first`);
  }
  if (sameName) throw invalidParameter(`CreateIndex failed: index name ${spec.indexName} is already used by field ${sameName.fieldName}`);
  info.indexes.push(spec);
  return true;
}

/** Whether every vector field has an index spec (a collection loads only then). */
export function allVectorFieldsIndexed(info: CollectionInfo): boolean {
  return info.schema.fields.every((f) => f.dataType !== 'FloatVector' || info.indexes.some((i) => i.fieldName === f.name));
}
