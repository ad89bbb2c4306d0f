/**
 * The collections a database has open, by id, and those it found damaged: name and alias
 * resolution, opening a collection with its role, and keeping a collection that fails to open
 * listed as damaged with the reason (describe and get_load_state show it, reads and writes are
 * refused naming the damage, it can be dropped) while every other collection is served.
 */
import { CollectionDamagedError, CollectionNotLoadedError, CorruptDataError, DatabaseNotFoundError, NotFoundError, collectionNotFound } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { CollectionRole } from '../roles/collection-role.ts';
import type { CollectionInfo } from '../schema/types.ts';
import { CollectionRuntime } from './collection-runtime.ts';
import type { RuntimeDeps } from './collection-state.ts';

/** The only database name served. */
export const DEFAULT_DB = 'default';
/** Channels tried when dropping a collection whose catalog entry (and so its shard count) is unreadable: Milvus's maximum. */
const MAX_SHARDS = 16;

/** A collection that could not be opened. */
export interface DamagedCollection {
  info: CollectionInfo;
  reason: string;
  /** The error that made it damaged. */
  cause: Error;
  /** The failure was not damage found in the data (an I/O or network error): a catalog refresh tries again. */
  transient: boolean;
}

/** Open and damaged collections of one database. */
export class OpenCollections {
  /** Open collections by id. */
  readonly runtimes = new Map<number, CollectionRuntime>();
  /** Collections found damaged when opened, by id: listed, refused for reads and writes. */
  readonly damaged = new Map<number, DamagedCollection>();

  constructor(
    private readonly deps: RuntimeDeps,
    private readonly role: CollectionRole,
    private readonly log: () => Logger,
  ) {}

  /** Opens a collection; one that fails to open is marked damaged (and undefined returned) instead of failing the others. */
  async openOrMarkDamaged(info: CollectionInfo): Promise<CollectionRuntime | undefined> {
    try {
      const rt = await this.open(info);
      this.damaged.delete(info.collectionId);
      return rt;
    } catch (err) {
      this.markDamaged(info, `${(err as Error).name}: ${(err as Error).message}`, err as Error, !(err instanceof CorruptDataError || err instanceof NotFoundError));
      return undefined;
    }
  }

  /** Opens a collection with this process's role. */
  async open(info: CollectionInfo): Promise<CollectionRuntime> {
    const rt = await CollectionRuntime.open(info, this.deps, this.role);
    this.runtimes.set(info.collectionId, rt);
    // Timestamps stay monotonic across restarts even if the clock went back.
    for (const ch of rt.channels) this.deps.tso.observe(ch.lastTs);
    return rt;
  }

  /** Lists a collection as damaged (logged once per reason). */
  markDamaged(info: CollectionInfo, reason: string, cause: Error, transient = false): void {
    const known = this.damaged.get(info.collectionId);
    this.damaged.set(info.collectionId, { info, reason, cause, transient });
    if (known?.reason === reason) return; // logged already
    this.log().error(`collection ${info.name} (id ${info.collectionId}) is damaged and not served (the other collections are): ${reason}`, {
      collection: info.name,
      collectionId: info.collectionId,
      error: cause,
    });
  }

  /** Lists a collection whose catalog entry cannot be decoded, under a made-up name. */
  markUnreadable(collectionId: number, key: string, error: Error): void {
    this.markDamaged(unreadableInfo(collectionId), `its catalog entry ${key} cannot be read (${error.message})`, error);
  }

  /** Closes and forgets an open collection. */
  async close(collectionId: number): Promise<void> {
    const rt = this.runtimes.get(collectionId);
    if (!rt) return;
    this.runtimes.delete(collectionId);
    await rt.close();
  }

  /** Refuses any database but the default one. */
  checkDb(db: string): void {
    if ((db || DEFAULT_DB) !== DEFAULT_DB) throw new DatabaseNotFoundError(db);
  }

  /** The open collection called `name`, or aliased so. */
  find(db: string, name: string): CollectionRuntime | undefined {
    this.checkDb(db);
    for (const rt of this.runtimes.values()) if (rt.info.name === name) return rt;
    for (const rt of this.runtimes.values()) if (rt.info.aliases.includes(name)) return rt;
    return undefined;
  }

  /** The damaged collection called `name` (or aliased so), if any. */
  findDamaged(name: string): DamagedCollection | undefined {
    for (const d of this.damaged.values()) if (d.info.name === name || d.info.aliases.includes(name)) return d;
    return undefined;
  }

  /** Whether `name` is taken by a collection or an alias, damaged ones included. */
  nameTaken(db: string, name: string): boolean {
    return this.find(db, name) !== undefined || this.findDamaged(name) !== undefined;
  }

  /** The open collection called `name`; throws not found, or the damage that keeps it closed. */
  runtime(db: string, name: string): CollectionRuntime {
    const rt = this.find(db, name);
    if (rt) return rt;
    const damaged = this.findDamaged(name);
    if (damaged) throw damagedError(damaged);
    throw collectionNotFound(name, db || DEFAULT_DB);
  }

  /** The open collection called `name`, which must be loaded. */
  loaded(db: string, name: string): CollectionRuntime {
    const rt = this.runtime(db, name);
    if (!rt.info.loaded) throw new CollectionNotLoadedError(name);
    return rt;
  }
}

/** The refusal of a read, write or load of a damaged collection. */
export function damagedError(d: DamagedCollection): CollectionDamagedError {
  return new CollectionDamagedError(d.info.name, d.reason, d.cause);
}

/** A stand-in description for a collection whose catalog entry cannot be decoded (listed under a made-up name so it can be seen and dropped). */
function unreadableInfo(collectionId: number): CollectionInfo {
  return {
    collectionId,
    name: `damaged_collection_${collectionId}`,
    dbName: DEFAULT_DB,
    description: '',
    schema: { fields: [], enableDynamicField: false },
    shardsNum: MAX_SHARDS,
    consistencyLevel: 'Bounded',
    partitions: [],
    indexes: [],
    aliases: [],
    properties: {},
    loaded: false,
    createdTs: 0n,
  };
}

/** JSON text of a catalog value (bigints included), for change detection. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}
