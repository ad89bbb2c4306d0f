/**
 * `/v2/vectordb/databases/*`: list and describe. Migrans has exactly one database, `default`, so
 * create / drop / alter answer with a clear error instead of a 404.
 */
import { invalidParameter } from '../../engine/errors.ts';
import { keyValueList, listResponse, success } from '../response.ts';
import type { Route, RouteTable } from '../types.ts';

function unsupported(action: string): Route {
  return {
    structName: 'DatabaseReq',
    async handle() {
      throw invalidParameter(`databases/${action} is not supported: Migrans has a single database, "default"`);
    },
  };
}

/** Database routes. */
export const databaseRoutes: RouteTable = {
  'databases/list': {
    structName: 'DatabaseReq',
    async handle({ db }) {
      return listResponse(await db.listDatabases());
    },
  },
  'databases/describe': {
    structName: 'DatabaseReq',
    async handle({ db, dbName }) {
      const d = await db.describeDatabase(dbName);
      return success({ data: `{"dbID":${d.dbId},"dbName":${JSON.stringify(d.dbName)},"properties":${keyValueList(d.properties)}}` });
    },
  },
  'databases/create': unsupported('create'),
  'databases/drop': unsupported('drop'),
  'databases/alter': unsupported('alter'),
  'databases/alter_properties': unsupported('alter_properties'),
  'databases/drop_properties': unsupported('drop_properties'),
};
