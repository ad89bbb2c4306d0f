/** `/v2/vectordb/indexes/*`: create, describe, list, drop. */
import type { IndexStatus } from '../../engine/database.ts';
import { parseIndexParams } from '../parse-collection-request.ts';
import { keyValueList, listResponse, OK_EMPTY, success } from '../response.ts';
import type { RouteTable } from '../types.ts';

/** One index as describe prints it (§3.11), keys in Go's sorted order. */
function describeIndex(s: IndexStatus): string {
  const params: Record<string, string> = { metric_type: s.metricType, index_type: s.indexType };
  for (const [k, v] of Object.entries(s.params)) if (k !== 'metric_type' && k !== 'index_type') params[k] = v;
  return (
    `{"failReason":""` +
    `,"fieldName":${JSON.stringify(s.fieldName)}` +
    `,"indexName":${JSON.stringify(s.indexName)}` +
    `,"indexParams":${keyValueList(params)}` +
    `,"indexState":${JSON.stringify(s.state)}` +
    `,"indexType":${JSON.stringify(s.indexType)}` +
    `,"indexedRows":${s.indexedRows}` +
    ',"indexoffsetcache.enabled":""' +
    ',"maxIndexVersion":0' +
    `,"metricType":${JSON.stringify(s.metricType)}` +
    ',"minIndexVersion":0' +
    ',"mmap.enabled":""' +
    `,"pendingRows":${s.pendingRows}` +
    `,"totalRows":${s.totalRows}}`
  );
}

/** Index routes. */
export const indexRoutes: RouteTable = {
  'indexes/create': {
    structName: 'IndexParamReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const items = req.structArray('indexParams', 'IndexParam', true)!;
      await db.createIndex(dbName, name, parseIndexParams(items));
      return OK_EMPTY;
    },
  },
  'indexes/describe': {
    structName: 'IndexReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const indexName = req.string('indexName', true);
      const statuses = await db.describeIndex(dbName, name, indexName);
      return success({ data: `[${statuses.map(describeIndex).join(',')}]` });
    },
  },
  'indexes/list': {
    structName: 'CollectionNameReq',
    async handle({ db, dbName, req }) {
      return listResponse(await db.listIndexes(dbName, req.string('collectionName', true)));
    },
  },
  'indexes/drop': {
    structName: 'IndexReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      await db.dropIndex(dbName, name, req.string('indexName', true));
      return OK_EMPTY;
    },
  },
};
