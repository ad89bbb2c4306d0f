/** `/v2/vectordb/aliases/*`: create, alter, drop, describe, list. */
import { listResponse, OK_EMPTY, success } from '../response.ts';
import type { RouteTable } from '../types.ts';

/** Alias routes. */
export const aliasRoutes: RouteTable = {
  'aliases/create': {
    structName: 'AliasCollectionReq',
    async handle({ db, dbName, req }) {
      const collection = req.string('collectionName', true);
      const alias = req.string('aliasName', true);
      await db.createAlias(dbName, collection, alias);
      return OK_EMPTY;
    },
  },
  'aliases/alter': {
    structName: 'AliasCollectionReq',
    async handle({ db, dbName, req }) {
      const collection = req.string('collectionName', true);
      const alias = req.string('aliasName', true);
      await db.alterAlias(dbName, collection, alias);
      return OK_EMPTY;
    },
  },
  'aliases/drop': {
    structName: 'AliasReq',
    async handle({ db, dbName, req }) {
      await db.dropAlias(dbName, req.string('aliasName', true));
      return OK_EMPTY;
    },
  },
  'aliases/describe': {
    structName: 'AliasReq',
    async handle({ db, dbName, req }) {
      const d = await db.describeAlias(dbName, req.string('aliasName', true));
      return success({
        data: `{"aliasName":${JSON.stringify(d.aliasName)},"collectionName":${JSON.stringify(d.collectionName)},"dbName":${JSON.stringify(d.dbName)}}`,
      });
    },
  },
  'aliases/list': {
    structName: 'OptionalCollectionNameReq',
    async handle({ db, dbName, req }) {
      return listResponse(await db.listAliases(dbName, req.string('collectionName') || undefined));
    },
  },
};
