/** Builds the HNSW index files of one flushed segment (invoked asynchronously by the ingest handler). */
import { indexerHandler } from '../../lib/aws/indexer-role.ts';

export const handler = indexerHandler();
