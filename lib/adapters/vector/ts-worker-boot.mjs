/**
 * Worker bootstrap for TypeScript worker modules (`workerData.entry` is the module's URL).
 *
 * Node 20 does not apply loader flags such as `--import tsx` inside worker threads
 * (nodejs/node#47747, fixed in Node 22.2), so a `.ts` worker entry fails with
 * ERR_UNKNOWN_FILE_EXTENSION. This plain-JS file imports the entry, and on that error registers
 * tsx's hooks in this thread and imports it again (with a query: Node caches the failed load).
 * It is a file rather than `eval` code because usearch's ESM build never finishes loading in an
 * eval worker.
 */
import { workerData } from 'node:worker_threads';

const entry = workerData.entry;
try {
  await import(entry);
} catch (err) {
  if (!err || err.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
  const { register } = await import('tsx/esm/api');
  register();
  await import(`${entry}?tsx`);
}
