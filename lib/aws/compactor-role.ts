/**
 * The compactor Lambda (scheduled): compactions, within the memory budget (MIGRANS_COMPACTOR_MEMORY_BYTES
 * or half the function's memory). Each run's summary is an info line of the powertools logger.
 */
import { resolveAwsConfig } from './aws-config.ts';
import { Compactor, type CompactorRun } from './compactor.ts';
import { containerSingleton } from './container-singleton.ts';
import { configuredIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';
import { powertoolsLogger } from '../adapters/aws/powertools-logger.ts';
import { resolveLogConfig } from '../config.ts';

/** The Lambda handler (the compactor is opened once per container). */
export function compactorHandler(): (event: unknown) => Promise<CompactorRun> {
  const logger = powertoolsLogger(resolveLogConfig());
  const compactor = containerSingleton(() => {
    const config = resolveAwsConfig();
    return Compactor.open(openSharedStores(config), config.engine, configuredIndexerTrigger(config, logger), { memoryBudgetBytes: config.compactorMemoryBytes, logger });
  });
  return async () => {
    const run = await (await compactor()).run();
    logger.info('compactor run', { ...run });
    return run;
  };
}
