/**
 * The embedded deployment: the engine on local files, an LMDB key-value store, a local WAL and
 * usearch indexes. This is the one place that wires the embedded deployment's adapters (and sizes
 * the growing-data budget from the machine's memory unless the configuration sets it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileObjectStore } from './adapters/local/file-object-store.ts';
import { FileWal } from './adapters/local/file-wal.ts';
import { LmdbKvStore } from './adapters/local/lmdb-kv-store.ts';
import { UsearchIndexFactory } from './adapters/vector/usearch-index-factory.ts';
import { defaultGrowingBudgetBytes } from './config.ts';
import type { Database } from './engine/database.ts';
import type { EngineConfig } from './engine/engine-config.ts';
import { EngineDatabase } from './engine/engine-database.ts';

/** Where and how the embedded engine keeps its data. */
export interface EmbeddedOptions {
  /** Root directory: objects/, kv/, wal/ and cache/ live under it. */
  dataDir: string;
  config?: Partial<EngineConfig>;
}

/** Opens (creating if needed) an embedded database under `dataDir`. */
export async function openEmbeddedDatabase(options: EmbeddedOptions): Promise<EngineDatabase & Database> {
  const root = path.resolve(options.dataDir);
  fs.mkdirSync(root, { recursive: true });
  const kv = await LmdbKvStore.open(path.join(root, 'kv'));
  const wal = await FileWal.open(path.join(root, 'wal'));
  const objects = new FileObjectStore(path.join(root, 'objects'));
  const config = { growingBudgetBytes: defaultGrowingBudgetBytes(os.totalmem()), ...options.config };
  return EngineDatabase.open({ kv, wal, objects, vectorIndexes: new UsearchIndexFactory(), cacheDir: path.join(root, 'cache'), config });
}
