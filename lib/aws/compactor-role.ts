/** The compactor Lambda (scheduled): idle seals and compactions. */
import { resolveAwsConfig } from './aws-config.ts';
import { Compactor, type CompactorRun } from './compactor.ts';
import { lambdaIndexerTrigger } from './indexer-trigger.ts';
import { openSharedStores } from './shared-stores.ts';

/** The Lambda handler (the compactor is opened once per container). */
export function compactorHandler(): (event: unknown) => Promise<CompactorRun> {
  let compactor: Promise<Compactor> | undefined;
  return async () => {
    if (!compactor) {
      const config = resolveAwsConfig();
      if (!config.indexerFunction) throw new Error('MIGRANS_INDEXER_FUNCTION is not set: the CDK stack sets it on the compactor function');
      compactor = Compactor.open(openSharedStores(config), config.engine, lambdaIndexerTrigger(config.indexerFunction));
      compactor.catch(() => (compactor = undefined));
    }
    const run = await (await compactor).run();
    console.log(JSON.stringify({ message: 'compactor run', ...run }));
    return run;
  };
}
