/** Runs the Wal contract against every adapter. FileWal's own guarantees are in file-wal.test.ts. */
import { FileWal } from '../../lib/adapters/local/file-wal.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import type { Wal } from '../../lib/engine/ports/wal.ts';
import { makeTempDir } from './contract-helpers.ts';
import { walContract } from './wal-contract.ts';

walContract('memory', async () => {
  const wal = new MemoryWal();
  return { wal, cleanup: () => wal.close() };
});

/** FileWal with default segments, and with tiny ones so every case also crosses segment files. */
for (const [label, segmentBytes] of [
  ['local files', undefined],
  ['local files, 256-byte segments', 256],
] as const) {
  walContract(label, async () => {
    const tmp = makeTempDir('migrans-wal-');
    let current: Wal = await FileWal.open(tmp.dir, { segmentBytes });
    return {
      wal: current,
      reopen: async () => {
        await current.close();
        current = await FileWal.open(tmp.dir, { segmentBytes });
        return current;
      },
      cleanup: async () => {
        await current.close();
        await tmp.remove();
      },
    };
  });
}
