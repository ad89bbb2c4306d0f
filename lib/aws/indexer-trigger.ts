/**
 * How the datanode and the proxy hand a flushed segment to the indexer: an asynchronous Lambda
 * invocation on AWS, an in-process build under `npm run dev:aws` and the tests.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { hookAwsClient } from '../adapters/aws/client-hook.ts';
import { UsearchIndexFactory } from '../adapters/vector/usearch-index-factory.ts';
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { Catalog, type SegmentMeta } from '../engine/catalog/catalog.ts';
import { indexSegment } from '../engine/index-builder.ts';
import { Tso } from '../engine/tso.ts';
import { ConfigError } from '../config.ts';
import type { AwsConfig } from './aws-config.ts';
import type { SharedStores } from './shared-stores.ts';
import { FolderLocalFiles } from '../adapters/local/local-files.ts';

/** What the indexer is invoked with. */
export interface IndexerEvent {
  collectionId: number;
  segmentId: number;
}

/** The trigger of a deployed role: the indexer function the stack names in MIGRANS_INDEXER_FUNCTION. */
export function configuredIndexerTrigger(config: AwsConfig, logger: Logger = NOOP_LOGGER): (meta: SegmentMeta) => void {
  if (!config.indexerFunction) throw new ConfigError('MIGRANS_INDEXER_FUNCTION is not set: the CDK stack sets it on the api, ingest and compactor functions');
  return lambdaIndexerTrigger(config.indexerFunction, hookAwsClient(new LambdaClient({})), logger);
}

/** Hands segments to the indexer function (InvocationType Event: queued, retried by Lambda). */
export function lambdaIndexerTrigger(functionName: string, client = hookAwsClient(new LambdaClient({})), logger: Logger = NOOP_LOGGER): (meta: SegmentMeta) => void {
  return (meta) => {
    const event: IndexerEvent = { collectionId: meta.collectionId, segmentId: meta.segmentId };
    client
      .send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }))
      .catch((error) => logger.error(`invoking the indexer for segment ${meta.segmentId} failed (the next datanode start retries it)`, { segment: meta.segmentId, error }));
  };
}

/** Runs the indexer's work for one segment against the shared stores. */
export function runIndexer(stores: SharedStores, event: IndexerEvent): Promise<number> {
  return indexSegment(
    {
      objects: stores.objects,
      vectorIndexes: new UsearchIndexFactory(),
      tso: new Tso(),
      localFiles: new FolderLocalFiles(path.join(os.tmpdir(), 'migrans-indexer')),
      catalog: new Catalog(stores.kv),
    },
    event.collectionId,
    event.segmentId,
  );
}

/** Builds in this process, one segment at a time (dev:aws and tests); `done` resolves when idle. */
export function inProcessIndexerTrigger(stores: SharedStores, logger: Logger = NOOP_LOGGER): { trigger: (meta: SegmentMeta) => void; idle: () => Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    trigger: (meta) => {
      chain = chain
        .then(() => runIndexer(stores, { collectionId: meta.collectionId, segmentId: meta.segmentId }))
        .catch((error) => logger.error(`indexing segment ${meta.segmentId} failed`, { segment: meta.segmentId, error }));
    },
    idle: async () => {
      await chain;
    },
  };
}
