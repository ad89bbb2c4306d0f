/**
 * Compaction jobs of a database: one run per collection at a time (a timer tick or a client's
 * `compact` joins the run in flight), and the state a client polls with getCompactionState.
 */
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import type { CompactionState } from '../database.ts';
import type { Logger } from '../ports/logger.ts';

/** Runs and tracks compactions. */
export class CompactionJobs {
  private readonly states = new Map<number, CompactionState>();
  private readonly runs = new Map<CollectionRuntime, Promise<number>>();

  constructor(private readonly log: () => Logger) {}

  /** Starts (or joins) a collection's compaction as job `compactionId`; returns the id. */
  start(rt: CollectionRuntime, compactionId: number): number {
    const state: CompactionState = { compactionId, state: 'Executing', executingPlanNumber: 1, completedPlanNumber: 0 };
    this.states.set(compactionId, state);
    this.run(rt)
      .then((plans) => Object.assign(state, { state: 'Completed', executingPlanNumber: 0, completedPlanNumber: plans }))
      .catch(() => Object.assign(state, { state: 'Completed', executingPlanNumber: 0 }));
    return compactionId;
  }

  /** Runs a collection's compactions unless they are already running; resolves with the plans executed. */
  run(rt: CollectionRuntime): Promise<number> {
    const running = this.runs.get(rt);
    if (running) return running;
    const run = rt
      .compact()
      .catch((err) => {
        this.log().error(`compaction of ${rt.info.name} failed (it is retried later)`, { collection: rt.info.name, error: err });
        throw err;
      })
      .finally(() => this.runs.delete(rt));
    this.runs.set(rt, run);
    return run;
  }

  /** A job's state (Milvus's misspelt UndefiedState for an unknown id). */
  state(compactionId: number): CompactionState {
    return this.states.get(compactionId) ?? { compactionId, state: 'UndefiedState', executingPlanNumber: 0, completedPlanNumber: 0 };
  }

  /** Waits for every run in flight to settle. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.runs.values());
  }
}
