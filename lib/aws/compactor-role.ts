/** The compactor Lambda (scheduled): compactions, within the memory budget (MIGRANS_COMPACTOR_MEMORY_BYTES or half the function's memory). */
import { resolveAwsConfig } from './aws-config.ts';
import { Compactor, type CompactorRun } from './compactor.ts';
import { containerSingleton } from './container-singleton.ts';
import { configuredIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';

/** The Lambda handler (the compactor is opened once per container). */
export function compactorHandler(): (event: unknown) => Promise<CompactorRun> {
  const compactor = containerSingleton(() => {
    const config = resolveAwsConfig();
    return Compactor.open(openSharedStores(config), config.engine, configuredIndexerTrigger(config), { memoryBudgetBytes: config.compactorMemoryBytes });
  });
  return async () => {
    const run = await (await compactor()).run();
    console.log(JSON.stringify({ message: 'compactor run', ...run }));
    return run;
  };
}
