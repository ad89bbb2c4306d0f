/** `/v2/vectordb/collections/*`: create, describe, list, has, drop, rename, stats, load state, properties, flush, compaction. */
import type { CollectionInfo } from '../../engine/schema/types.ts';
import type { LoadState } from '../../engine/database.ts';
import { parseCollectionRequest } from '../parse-collection-request.ts';
import { writeJson } from '../json-writer.ts';
import { OK_EMPTY, hasResponse, keyValueList, listResponse, rowCountResponse, success } from '../response.ts';
import type { FieldSchema, Value } from '../../engine/schema/types.ts';
import type { RouteTable } from '../types.ts';
import { missingRequired } from '../bind.ts';

const NAME_REQ = 'CollectionNameReq';

/** `{"Data":{"LongData":10}}`: the raw proto ValueField Milvus 2.5 puts in describe's `defaultValue`. */
function protoDefaultValue(field: FieldSchema, value: Value): string {
  const kind: Record<string, string> = {
    Bool: 'BoolData',
    Int8: 'IntData',
    Int16: 'IntData',
    Int32: 'IntData',
    Int64: 'LongData',
    Float: 'FloatData',
    Double: 'DoubleData',
    VarChar: 'StringData',
  };
  return `{"Data":{${JSON.stringify(kind[field.dataType] ?? 'StringData')}:${writeJson(value)}}}`;
}

/** One field as describe prints it (utils.go printFieldDetail), keys sorted as Go maps are. */
function describeField(f: FieldSchema): string {
  const parts = [`"autoId":${f.autoId}`, `"clusteringKey":${f.isClusteringKey}`];
  if (f.defaultValue !== undefined) parts.push(`"defaultValue":${protoDefaultValue(f, f.defaultValue)}`);
  parts.push(`"description":${JSON.stringify(f.description)}`);
  if (f.dataType === 'Array' && f.elementType) parts.push(`"elementType":${JSON.stringify(f.elementType)}`);
  parts.push(`"id":${f.fieldId}`, `"name":${JSON.stringify(f.name)}`, `"nullable":${f.nullable}`);
  if (Object.keys(f.typeParams).length > 0) parts.push(`"params":${keyValueList(f.typeParams)}`);
  parts.push(`"partitionKey":${f.isPartitionKey}`, `"primaryKey":${f.isPrimary}`, `"type":${JSON.stringify(f.dataType)}`);
  return `{${parts.join(',')}}`;
}

/** The describe payload of §3.2. */
export function describeCollectionData(info: CollectionInfo & { loadState: LoadState; loadFailure?: string }): string {
  const pk = info.schema.fields.find((f) => f.isPrimary);
  // Milvus lists the indexes of the first vector field only.
  const firstVector = info.schema.fields.find((f) => f.dataType === 'FloatVector');
  const indexes = info.indexes
    .filter((ix) => ix.fieldName === firstVector?.name)
    .map((ix) => `{"fieldName":${JSON.stringify(ix.fieldName)},"indexName":${JSON.stringify(ix.indexName)},"metricType":${JSON.stringify(ix.metricType)}}`);
  return (
    `{"aliases":${writeJson(info.aliases)}` +
    `,"autoId":${pk?.autoId ?? false}` +
    `,"collectionID":${info.collectionId}` +
    `,"collectionName":${JSON.stringify(info.name)}` +
    `,"consistencyLevel":${JSON.stringify(info.consistencyLevel)}` +
    `,"description":${JSON.stringify(info.description)}` +
    `,"enableDynamicField":${info.schema.enableDynamicField}` +
    `,"fields":[${info.schema.fields.map(describeField).join(',')}]` +
    ',"functions":[]' +
    `,"indexes":[${indexes.join(',')}]` +
    `,"load":${JSON.stringify(info.loadState)}` +
    // Migrans extension: why a damaged collection cannot be served.
    (info.loadFailure !== undefined ? `,"loadFailure":${JSON.stringify(info.loadFailure)}` : '') +
    `,"partitionsNum":${info.partitions.length}` +
    `,"properties":${keyValueList(info.properties)}` +
    `,"shardsNum":${info.shardsNum}}`
  );
}

/** Formats a property value as Milvus does (`%v`; JSON for structures). */
function propertyValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return writeJson(v);
}

/** Collection routes. */
export const collectionRoutes: RouteTable = {
  'collections/create': {
    structName: 'CollectionReq',
    async handle({ db, dbName, body }) {
      await db.createCollection(dbName, parseCollectionRequest(body));
      return OK_EMPTY;
    },
  },
  'collections/describe': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      const info = await db.describeCollection(dbName, req.string('collectionName', true));
      return success({ data: describeCollectionData(info), message: '' });
    },
  },
  'collections/list': {
    structName: 'DatabaseReq',
    async handle({ db, dbName }) {
      return listResponse(await db.listCollections(dbName));
    },
  },
  'collections/has': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      return hasResponse(await db.hasCollection(dbName, req.string('collectionName', true)));
    },
  },
  'collections/drop': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      await db.dropCollection(dbName, req.string('collectionName', true));
      return OK_EMPTY;
    },
  },
  'collections/rename': {
    structName: 'RenameCollectionReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const newName = req.string('newCollectionName', true);
      const newDb = req.string('newDbName') || undefined;
      await db.renameCollection(dbName, name, newName, newDb);
      return OK_EMPTY;
    },
  },
  'collections/get_stats': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      const { rowCount } = await db.getCollectionStats(dbName, req.string('collectionName', true));
      return rowCountResponse(rowCount);
    },
  },
  'collections/load': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      await db.loadCollection(dbName, req.string('collectionName', true));
      return OK_EMPTY;
    },
  },
  'collections/release': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      await db.releaseCollection(dbName, req.string('collectionName', true));
      return OK_EMPTY;
    },
  },
  'collections/get_load_state': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      const { loadState, loadProgress, message } = await db.getLoadState(dbName, req.string('collectionName', true));
      const data =
        loadState === 'LoadStateLoaded' || loadState === 'LoadStateLoading' ? `{"loadProgress":${loadProgress},"loadState":"${loadState}"}` : `{"loadState":"${loadState}"}`;
      return success({ data, message: message ?? '' });
    },
  },
  'collections/refresh_load': {
    structName: NAME_REQ,
    async handle({ db, dbName, req }) {
      await db.refreshLoad(dbName, req.string('collectionName', true));
      return OK_EMPTY;
    },
  },
  'collections/flush': {
    structName: 'FlushReq',
    async handle({ db, dbName, req }) {
      await db.flush(dbName, req.string('collectionName', true));
      return OK_EMPTY;
    },
  },
  'collections/compact': {
    structName: 'CompactReq',
    async handle({ db, dbName, req }) {
      const id = await db.compact(dbName, req.string('collectionName', true));
      return success({ data: `{"compactionID":${id}}` });
    },
  },
  'collections/get_compaction_state': {
    structName: 'GetCompactionStateReq',
    async handle({ db, req }) {
      // Milvus 2.5 reads `jobID`; the Node SDK sends `compactionID`: accept both.
      const id = req.int64('jobID') ?? req.int64('compactionID');
      if (id === undefined) throw missingRequired('GetCompactionStateReq', 'jobID');
      const s = await db.getCompactionState(Number(id));
      return success({
        data:
          `{"compactionID":${s.compactionId},"completedPlanNumber":${s.completedPlanNumber}` +
          `,"executingPlanNumber":${s.executingPlanNumber},"state":${JSON.stringify(s.state)},"timeoutPlanNumber":0}`,
      });
    },
  },
  'collections/alter_properties': {
    structName: 'CollectionReqWithProperties',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const props = req.map('properties') ?? {};
      const properties: Record<string, string> = {};
      for (const [k, v] of Object.entries(props)) if (v !== null && v !== undefined) properties[k] = propertyValue(v);
      await db.alterProperties(dbName, name, properties);
      return OK_EMPTY;
    },
  },
  'collections/drop_properties': {
    structName: 'DropCollectionPropertiesReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      await db.dropProperties(dbName, name, req.stringArray('propertyKeys') ?? []);
      return OK_EMPTY;
    },
  },
};
