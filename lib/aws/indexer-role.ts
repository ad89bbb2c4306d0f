/** The indexer Lambda: builds the missing index files of one flushed segment. */
import { resolveAwsConfig } from './aws-config.ts';
import { runIndexer, type IndexerEvent } from './indexer-trigger.ts';
import { openSharedStores, type SharedStores } from './shared-stores.ts';

/** The Lambda handler; returns how many index files it wrote. */
export function indexerHandler(): (event: IndexerEvent) => Promise<{ built: number }> {
  let stores: SharedStores | undefined;
  return async (event) => {
    if (!Number.isSafeInteger(event?.collectionId) || !Number.isSafeInteger(event?.segmentId)) {
      throw new TypeError(`the indexer takes {collectionId, segmentId} (integers), got ${JSON.stringify(event)}`);
    }
    stores ??= openSharedStores(resolveAwsConfig());
    return { built: await runIndexer(stores, event) };
  };
}
