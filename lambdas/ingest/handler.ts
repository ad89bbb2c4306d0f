/** Kinesis event source → the datanode (applies each woken channel's WAL records up to its tip); on its schedule, the idle-channel sweep. */
import { ingestHandler } from '../../lib/aws/ingest-role.ts';

export const handler = ingestHandler();
