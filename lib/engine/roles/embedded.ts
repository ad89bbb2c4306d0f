/** The embedded deployment's role: one process loads and applies every channel, keeps every segment resident and builds indexes itself. */
import { LocalIndexScheduler } from '../index/local-index-scheduler.ts';
import { Residency } from '../read/residency.ts';
import { EVERY_CHANNEL, type CollectionRole } from './collection-role.ts';

/** Every role in one process. */
export const embeddedRole: CollectionRole = (state) => {
  const indexes = new LocalIndexScheduler(state);
  return { share: EVERY_CHANNEL, indexes, segments: new Residency(state, indexes) };
};
