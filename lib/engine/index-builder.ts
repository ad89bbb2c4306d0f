/**
 * The indexnode: builds the HNSW file of a segment's vector field and stores it in the object store.
 * The embedded runtime calls it in-process; on AWS the indexer Lambda runs `indexSegment`.
 */
import type { Catalog, SegmentMeta } from './catalog/catalog.ts';
import type { LocalFiles } from './ports/local-files.ts';
import type { ObjectStore } from './ports/object-store.ts';
import { completeIndexParams, type VectorIndexFactory, type VectorIndexParams } from './ports/vector-index.ts';
import type { CollectionInfo, FieldSchema, IndexSpec } from './schema/types.ts';
import { indexFileKey } from './catalog/key-layout.ts';
import { readSegment } from './segment/segment-io.ts';
import type { Segment } from './segment/segment.ts';
import type { Tso } from './tso.ts';

/** What building an index file needs. */
export interface IndexBuildDeps {
  objects: ObjectStore;
  vectorIndexes: VectorIndexFactory;
  tso: Tso;
  /** The local area holding the file being built. */
  localFiles: LocalFiles;
}

/** Index params of a field for building or viewing, complete (the port's defaults fill what the spec lacks). */
export function indexParams(field: FieldSchema, spec: IndexSpec): Required<VectorIndexParams> {
  return completeIndexParams({ dim: field.dim!, metric: spec.metricType, M: spec.M, efConstruction: spec.efConstruction, quantization: spec.quantization });
}

/** The HNSW spec of a vector field, if it has one that needs building. */
export function hnswSpec(info: CollectionInfo, field: FieldSchema): IndexSpec | undefined {
  if (field.dataType !== 'FloatVector') return undefined;
  const spec = info.indexes.find((i) => i.fieldName === field.name);
  return spec && spec.indexType !== 'FLAT' ? spec : undefined;
}

/**
 * Builds the index of `field` over the segment's vectors and stores it; returns the object key, or
 * undefined when `stale()` says the result is no longer wanted (nothing is left behind then).
 */
export async function buildIndexFile(deps: IndexBuildDeps, seg: Segment, field: FieldSchema, params: VectorIndexParams, stale: () => boolean): Promise<string | undefined> {
  const vectors = seg.vectors(field.name).data();
  const keys = new Uint32Array(vectors.length / field.dim!);
  for (let i = 0; i < keys.length; i++) keys[i] = i;
  const tmp = deps.localFiles.scratchName(`${seg.id}-${field.fieldId}.usearch`);
  try {
    await deps.vectorIndexes.build(vectors, keys, params, deps.localFiles.path(tmp));
    if (stale()) return undefined;
    const key = indexFileKey(seg.meta, field.fieldId, deps.tso.allocate());
    await deps.objects.put(key, deps.localFiles.readFile(tmp));
    if (!stale()) return key;
    await deps.objects.delete(key);
    return undefined;
  } finally {
    deps.localFiles.remove(tmp);
  }
}

/**
 * Builds every missing index of a flushed segment and records it in the segment's metadata.
 * Idempotent: a segment that is gone, not flushed or already indexed is left alone, so a repeated
 * or late invocation does nothing. Returns the number of index files written.
 */
export async function indexSegment(deps: IndexBuildDeps & { catalog: Catalog }, collectionId: number, segmentId: number): Promise<number> {
  const info = await deps.catalog.getCollection(collectionId);
  const meta = await deps.catalog.getSegment(collectionId, segmentId);
  if (!info || !meta || meta.state !== 'Flushed') return 0;
  const fields = info.schema.fields.filter((f) => hnswSpec(info, f) && !meta.indexFiles[f.name]);
  if (fields.length === 0) return 0;
  const seg = await readSegment(deps.objects, meta, info.schema);
  let built = 0;
  try {
    for (const field of fields) {
      const spec = hnswSpec(info, field)!;
      const key = await buildIndexFile(deps, seg, field, indexParams(field, spec), () => false);
      // Record it only if the segment and the spec are still what the index was built for.
      const [nowInfo, nowMeta] = await Promise.all([deps.catalog.getCollection(collectionId), deps.catalog.getSegment(collectionId, segmentId)]);
      const nowSpec = nowInfo && hnswSpec(nowInfo, field);
      if (!nowMeta || nowMeta.state !== 'Flushed' || !nowSpec || JSON.stringify(nowSpec) !== JSON.stringify(spec)) {
        await deps.objects.delete(key!);
        continue;
      }
      const updated: SegmentMeta = { ...nowMeta, indexFiles: { ...nowMeta.indexFiles, [field.name]: key! } };
      await deps.catalog.write([deps.catalog.putSegmentOp(updated)]);
      built++;
    }
  } finally {
    seg.close();
  }
  return built;
}
