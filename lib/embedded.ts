/**
 * The embedded deployment: the engine on local files, an LMDB key-value store, a local WAL and
 * usearch indexes. This is the one place that wires the embedded deployment's adapters (and sizes
 * the growing-data budget from the machine's memory unless the configuration sets it). The data
 * directory's lock is taken before anything in it is opened (one owning process) and released when
 * the database closes or fails to open. The LMDB file is checked before LMDB maps it: a truncated
 * file would kill the process with SIGBUS instead of giving an error. Faults are logged as JSON or
 * pretty lines on stderr (lib/adapters/local/console-logger.ts) unless a logger is passed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireDataDirLock } from './adapters/local/data-dir-lock.ts';
import { consoleLogger } from './adapters/local/console-logger.ts';
import { checkLmdbDataFile } from './adapters/local/lmdb-file-check.ts';
import { FileObjectStore } from './adapters/local/file-object-store.ts';
import { FileWal } from './adapters/local/file-wal.ts';
import { LmdbKvStore } from './adapters/local/lmdb-kv-store.ts';
import { UsearchIndexFactory } from './adapters/vector/usearch-index-factory.ts';
import { defaultGrowingBudgetBytes, resolveLogConfig } from './config.ts';
import type { Database } from './engine/database.ts';
import { CorruptDataError } from './engine/errors.ts';
import type { EngineConfig } from './engine/engine-config.ts';
import { EngineDatabase } from './engine/engine-database.ts';
import { FolderLocalFiles } from './adapters/local/local-files.ts';
import type { Logger } from './engine/ports/logger.ts';
import type { Metrics } from './engine/ports/metrics.ts';
import { meteredWal } from './adapters/metrics/metered-wal.ts';

/** Where and how the embedded engine keeps its data. */
export interface EmbeddedOptions {
  /** Root directory: objects/, kv/, wal/ and cache/ live under it. */
  dataDir: string;
  config?: Partial<EngineConfig>;
  /** Default: the console logger as MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT set it. */
  logger?: Logger;
  /** Where the WAL's traffic is counted (default: nowhere). */
  metrics?: Metrics;
}

/** Opens (creating if needed) an embedded database under `dataDir`. */
export async function openEmbeddedDatabase(options: EmbeddedOptions): Promise<EngineDatabase & Database> {
  const root = path.resolve(options.dataDir);
  fs.mkdirSync(root, { recursive: true });
  const logger = options.logger ?? consoleLogger(resolveLogConfig());
  const lock = acquireDataDirLock(root);
  let kv: LmdbKvStore | undefined;
  let wal: FileWal | undefined;
  try {
    checkLmdbDataFile(
      path.join(root, 'kv', 'data.mdb'),
      `restore ${root} from a backup (this file holds the catalog and primary-key index of every collection, so none can be served without it)`,
    );
    checkKvPresent(root);
    kv = await LmdbKvStore.open(path.join(root, 'kv'));
    wal = await FileWal.open(path.join(root, 'wal'));
    const objects = new FileObjectStore(path.join(root, 'objects'));
    const config = { growingBudgetBytes: defaultGrowingBudgetBytes(os.totalmem()), ...options.config };
    return await EngineDatabase.open({
      kv,
      wal: options.metrics ? meteredWal(wal, options.metrics) : wal,
      objects,
      vectorIndexes: new UsearchIndexFactory(),
      localFiles: new FolderLocalFiles(path.join(root, 'cache')),
      config,
      logger,
      onClose: () => lock.release(),
    });
  } catch (err) {
    await wal?.close().catch(() => undefined);
    await kv?.close().catch(() => undefined);
    lock.release();
    throw err;
  }
}

/**
 * Refuses a data directory whose key-value store is gone while its WAL or objects remain: opening it
 * would create an empty catalog and silently serve none of the collections those files hold.
 */
function checkKvPresent(root: string): void {
  const file = path.join(root, 'kv', 'data.mdb');
  if (fs.existsSync(file) && fs.statSync(file).size > 0) return;
  const held = ['wal', 'objects'].filter((d) => {
    const dir = path.join(root, d);
    return fs.existsSync(dir) && fs.readdirSync(dir).some((e) => !e.startsWith('.'));
  });
  if (held.length > 0) {
    throw new CorruptDataError(
      `the key-value store ${file} is missing or empty, but ${held.map((d) => path.join(root, d)).join(' and ')} hold data: the catalog of those collections is lost; restore ${root} from a backup, or move the directory aside to start empty`,
    );
  }
}
