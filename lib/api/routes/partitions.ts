/** `/v2/vectordb/partitions/*`: create, drop, has, list, get_stats, load, release. */
import { hasResponse, listResponse, OK_EMPTY, rowCountResponse } from '../response.ts';
import type { RouteTable } from '../types.ts';

/** Partition routes. */
export const partitionRoutes: RouteTable = {
  'partitions/create': {
    structName: 'PartitionReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const partition = req.string('partitionName', true);
      await db.createPartition(dbName, name, partition);
      return OK_EMPTY;
    },
  },
  'partitions/drop': {
    structName: 'PartitionReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      await db.dropPartition(dbName, name, req.string('partitionName', true));
      return OK_EMPTY;
    },
  },
  'partitions/has': {
    structName: 'PartitionReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      return hasResponse(await db.hasPartition(dbName, name, req.string('partitionName', true)));
    },
  },
  'partitions/list': {
    structName: 'CollectionNameReq',
    async handle({ db, dbName, req }) {
      return listResponse(await db.listPartitions(dbName, req.string('collectionName', true)));
    },
  },
  'partitions/get_stats': {
    structName: 'PartitionReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      const { rowCount } = await db.getPartitionStats(dbName, name, req.string('partitionName', true));
      return rowCountResponse(rowCount);
    },
  },
  'partitions/load': {
    structName: 'PartitionsReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      await db.loadPartitions(dbName, name, req.stringArray('partitionNames', true)!);
      return OK_EMPTY;
    },
  },
  'partitions/release': {
    structName: 'PartitionsReq',
    async handle({ db, dbName, req }) {
      const name = req.string('collectionName', true);
      await db.releasePartitions(dbName, name, req.stringArray('partitionNames', true)!);
      return OK_EMPTY;
    },
  },
};
