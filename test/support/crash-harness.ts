/**
 * Crash harness: an engine on memory adapters whose stores outlive the engine, so a test can
 * "kill -9" one engine (every later storage call of that engine hangs forever, as if the process
 * had died at that instant) and open a fresh engine on the very same stores. Storage calls can also
 * be made to fail once (transient S3 / DynamoDB / disk errors) or be observed.
 */
import * as fs from 'node:fs';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import type { CollectionRole } from '../../lib/engine/roles/collection-role.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { tempDir } from './engine.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

export type Port = 'kv' | 'wal' | 'objects';

/** Decides, per storage call, whether to throw (transient error) instead of calling the store. */
export type Fault = (port: Port, method: string, args: unknown[]) => boolean;

/** One engine's view of the shared stores. */
export interface Instance {
  db: EngineDatabase;
  /** The process dies now: every later storage call of this engine never settles. */
  crash(): void;
  /** Faults to inject into this engine's storage calls (return true to throw once for that call). */
  faults: Fault[];
  /** Hooks run before each storage call (may return a promise the call waits for). */
  before: ((port: Port, method: string, args: unknown[]) => void | Promise<void>)[];
}

/** Stores that survive engine instances. */
export class SharedStores {
  readonly kv = new MemoryKvStore();
  readonly wal = new MemoryWal();
  readonly objects = new MemoryObjectStore();
  readonly cache = tempDir('migrans-crash-harness-').dir;

  /** Opens an engine on the shared stores. `close()` of that engine does not close the stores. */
  async open(config?: Partial<EngineConfig>, setup?: (i: Omit<Instance, 'db'>) => void, role?: CollectionRole): Promise<Instance> {
    let dead = false;
    const faults: Fault[] = [];
    const before: Instance['before'] = [];
    const wrap = <T extends object>(port: Port, target: T): T =>
      new Proxy(target, {
        get(t, prop) {
          const v = (t as Record<string | symbol, unknown>)[prop];
          if (typeof v !== 'function') return v;
          if (prop === 'close') return async () => undefined; // the stores outlive the engine
          return (...args: unknown[]) => {
            if (dead) return prop === 'scan' ? hangingIterable() : new Promise(() => {});
            for (const f of faults) if (f(port, String(prop), args)) return Promise.reject(new Error(`injected ${port}.${String(prop)} failure`));
            const hooks = before.map((h) => h(port, String(prop), args)).filter((p) => p instanceof Promise);
            if (hooks.length === 0) return (v as (...a: unknown[]) => unknown).apply(t, args);
            return Promise.all(hooks).then(() => {
              if (dead) return new Promise(() => {});
              return (v as (...a: unknown[]) => unknown).apply(t, args);
            });
          };
        },
      });
    const partial = { crash: () => (dead = true), faults, before };
    setup?.(partial);
    const db = await EngineDatabase.open({
      kv: wrap('kv', this.kv),
      wal: wrap('wal', this.wal),
      objects: wrap('objects', this.objects),
      vectorIndexes: new UsearchIndexFactory(),
      localFiles: new FolderLocalFiles(this.cache),
      config: { compactionIntervalMs: 0, idleSealMs: 3_600_000, ...config },
      role,
    });
    return {
      db,
      faults,
      before,
      crash: () => {
        dead = true;
        clearInterval((db as unknown as { timer: NodeJS.Timeout }).timer);
      },
    };
  }

  cleanup(): void {
    fs.rmSync(this.cache, { recursive: true, force: true });
  }
}

function hangingIterable(): AsyncIterable<never> {
  return { [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) };
}

/** count(*) at Strong consistency. */
export async function countAll(db: EngineDatabase, name = 'c'): Promise<number> {
  return (await db.query('default', name, { filter: '', outputFields: ['count(*)'] }))[0]['count(*)'] as number;
}

/** Every live row's id (scan path), Strong. */
export async function allIds(db: EngineDatabase, name = 'c'): Promise<bigint[]> {
  const rows = await db.query('default', name, { filter: 'id >= 0', outputFields: ['id'] });
  return rows.map((r) => r.id as bigint).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Rows {id, vector} for ids. */
export function rows(ids: number[], dim = 4, shift = 0): Record<string, unknown>[] {
  return ids.map((id) => ({ id, vector: Array.from({ length: dim }, (_, j) => ((id * 7 + j * 3) % 11) + shift) }));
}

/** Lets pending microtasks and short timers run. */
export async function settle(ms = 20): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
