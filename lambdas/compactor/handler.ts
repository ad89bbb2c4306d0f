/** Scheduled: seals idle channels and runs the compactions the segments call for. */
import { compactorHandler } from '../../lib/aws/compactor-role.ts';

export const handler = compactorHandler();
