/** Test helpers: an engine on in-memory adapters, or on local files in a temp dir. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import { openEmbeddedDatabase } from '../../lib/embedded.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

/** Temp directories of this test process not yet cleaned up: removed at exit, so a failed test leaves no litter. */
const liveTempDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of liveTempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed by the returned cleanup (or at process exit). */
export function tempDir(prefix = 'migrans-test-'): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  liveTempDirs.add(dir);
  return {
    dir,
    cleanup: () => {
      fs.rmSync(dir, { recursive: true, force: true });
      liveTempDirs.delete(dir);
    },
  };
}

/** An engine on memory adapters (index files go to a temp dir). */
export async function memoryDatabase(config?: Partial<EngineConfig>): Promise<{ db: EngineDatabase; cleanup(): Promise<void> }> {
  const tmp = tempDir();
  const db = await EngineDatabase.open({
    kv: new MemoryKvStore(),
    wal: new MemoryWal(),
    objects: new MemoryObjectStore(),
    vectorIndexes: new UsearchIndexFactory(),
    localFiles: new FolderLocalFiles(tmp.dir),
    config,
  });
  return {
    db,
    cleanup: async () => {
      await db.close();
      tmp.cleanup();
    },
  };
}

/** An embedded engine on local files under a temp dir, reopenable. */
export async function fileDatabase(config?: Partial<EngineConfig>, dir?: string) {
  const tmp = dir ? { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) } : tempDir();
  const db = await openEmbeddedDatabase({ dataDir: tmp.dir, config });
  return {
    db,
    dir: tmp.dir,
    cleanup: async () => {
      await db.close();
      tmp.cleanup();
    },
  };
}

/** Waits until every flushed segment of `collection` has its index file (a safety timeout, not a timing assertion: builds queue behind other tests' on a loaded 2-core machine). */
export async function waitIndexed(db: EngineDatabase, collection = 'c', field = 'vector'): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    const [status] = await db.describeIndex('default', collection, field);
    if (status.state === 'Finished' && status.pendingRows === 0) return;
    await sleep(25);
  }
  throw new Error(`the index build of ${collection}.${field} did not finish within 60 s`);
}

export { clusteredVectors, exactTopK, rng, simpleSpec } from './data.ts';
