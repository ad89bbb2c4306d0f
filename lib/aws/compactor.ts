/**
 * The compactor on AWS (a scheduled Lambda): runs the compactions the flushed segments call for. A
 * compaction's output is written here; the channel's datanode commits it when it applies the
 * compaction record, which keeps the PK index exact. (Idle channels are sealed by the datanodes'
 * own scheduled sweep, datanode.ts, so a failing compactor never leaves acknowledged rows unflushed.)
 *
 * Memory: segments are opened without vectors (planning needs row and delete counts only), and the
 * plans run one at a time, each reading its own inputs whole one after the other (peak: the output
 * plus its largest input); a plan whose estimated size exceeds the memory budget is deferred with a
 * log line instead of running the Lambda out of memory.
 */
import { NOOP_LOGGER, type Logger } from '../engine/ports/logger.ts';
import { Catalog, type SegmentMeta } from '../engine/catalog/catalog.ts';
import type { CompactionBudget } from '../engine/compaction/compaction-runner.ts';
import { compactorRole } from '../engine/roles/compactor.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { openRoleDatabase, type RoleStores } from './shared-stores.ts';

/** Budget when neither the option nor the Lambda's memory size says (bytes). */
const DEFAULT_BUDGET_BYTES = 1024 * 1024 * 1024;
/** Share of the Lambda's memory a plan may take: the rest is the runtime, the open segments' scalars and the S3 buffers. */
const LAMBDA_MEMORY_SHARE = 0.5;

/** What one compactor run did. */
export interface CompactorRun {
  /** Compaction plans whose output was written and committed to the WAL. */
  compactions: number;
  /** Plans left for later because they need more memory than the budget. */
  deferred: number;
}

/** Options of the compactor. */
export interface CompactorOptions {
  /** Memory one plan may use, in bytes (default: defaultCompactorBudget). */
  memoryBudgetBytes?: number;
  /** Where faults and deferrals are logged (default: nowhere). */
  logger?: Logger;
}

/** The default budget: half of the Lambda's memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, set by Lambda), else 1 GiB. */
export function defaultCompactorBudget(env: NodeJS.ProcessEnv = process.env): number {
  const lambdaMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isFinite(lambdaMb) && lambdaMb > 0 ? Math.floor(lambdaMb * 1024 * 1024 * LAMBDA_MEMORY_SHARE) : DEFAULT_BUDGET_BYTES;
}

/** The compactor over the deployment's shared stores. */
export class Compactor {
  private constructor(
    private readonly db: EngineDatabase,
    private readonly stores: RoleStores,
    private readonly budgetBytes: number,
    private readonly log: Logger,
  ) {}

  /** Opens the compactor; `indexSegment` hands segments to the indexer. */
  static async open(stores: RoleStores, config: Partial<EngineConfig>, indexSegment: (meta: SegmentMeta) => void, options: CompactorOptions = {}): Promise<Compactor> {
    const budget = options.memoryBudgetBytes ?? defaultCompactorBudget();
    if (!Number.isSafeInteger(budget) || budget <= 0) throw new RangeError(`the compactor's memory budget must be a positive integer of bytes, got ${budget}`);
    const db = await openRoleDatabase(stores, 'compactor', config, compactorRole(indexSegment), options.logger);
    return new Compactor(db, stores, budget, options.logger ?? NOOP_LOGGER);
  }

  /** One scheduled run over every collection, one plan at a time. */
  async run(): Promise<CompactorRun> {
    const out: CompactorRun = { compactions: 0, deferred: 0 };
    const budget: CompactionBudget = {
      bytes: this.budgetBytes,
      onDefer: (plan, bytes) => {
        out.deferred++;
        this.log.warn(
          `compactor: deferred merging segments ${plan.inputs.map((s) => s.id).join(', ')}: it needs about ${bytes} bytes of memory, over the budget of ${this.budgetBytes}; give the compactor more memory (MIGRANS_COMPACTOR_MEMORY_BYTES, or the function's memory size) or lower MIGRANS_MAX_SEGMENT_BYTES`,
          { segments: plan.inputs.map((s) => s.id), neededBytes: bytes, budgetBytes: this.budgetBytes },
        );
      },
    };
    for (const info of await new Catalog(this.stores.kv).listCollections()) {
      // Reopened every run: compaction plans from the flushed segments as they are now.
      const rt = await this.db.reopenCollection(info.collectionId);
      if (!rt) continue;
      out.compactions += await rt.compact(budget);
    }
    return out;
  }

  /** Closes the engine. */
  close(): Promise<void> {
    return this.db.close();
  }
}
