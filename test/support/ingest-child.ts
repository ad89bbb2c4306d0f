/**
 * The ingest Lambda's work in a child process, for tests that SIGKILL it mid-batch: opens a
 * datanode from the MIGRANS_* and AWS_ENDPOINT_URL_* environment (as the handler does), reads the
 * Kinesis batch (IngestRecord[] as JSON) from the file named by MIGRANS_TEST_BATCH and applies it
 * with ingestBatch. Prints `opened` once the datanode is open and `done <response>` at the end.
 */
import * as fs from 'node:fs';
import { resolveAwsConfig } from '../../lib/aws/aws-config.ts';
import { Datanode } from '../../lib/aws/datanode.ts';
import { ingestBatch, type IngestRecord } from '../../lib/aws/ingest-role.ts';
import { openSharedStores } from '../../lib/aws/shared-stores.ts';

const batchFile = process.env.MIGRANS_TEST_BATCH;
if (!batchFile) throw new Error('MIGRANS_TEST_BATCH is not set: name the JSON file holding the Kinesis batch to apply');
const batch = JSON.parse(fs.readFileSync(batchFile, 'utf8')) as IngestRecord[];
const config = resolveAwsConfig();
// The indexer is a separate function invoked asynchronously; a killed invocation may never have
// invoked it, and the next datanode hands it what lacks an index.
const node = await Datanode.open(openSharedStores(config), config.engine, () => undefined);
console.log('opened');
const res = await ingestBatch(node, batch, Date.now() + 60_000);
console.log(`done ${JSON.stringify(res)}`);
await node.close();
