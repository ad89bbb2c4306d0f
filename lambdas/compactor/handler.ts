/** Scheduled: runs the compactions the segments call for (idle channels are sealed by the ingest function's sweep). */
import { compactorHandler } from '../../lib/aws/compactor-role.ts';

export const handler = compactorHandler();
