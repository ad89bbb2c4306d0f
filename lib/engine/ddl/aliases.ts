/**
 * Collection aliases: another name for a collection, resolved wherever a collection name is. The
 * caller runs each change on the database's DDL queue, so a concurrent create of a collection with
 * that name sees it; a name is never both a collection and an alias.
 */
import { validateName } from '../schema/validate-spec.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import { DEFAULT_DB, type OpenCollections } from '../collection/open-collections.ts';
import { AliasConflictError, AliasExistsError, AliasNotFoundError, invalidParameter } from '../errors.ts';

/** Alias DDL over a database's open collections. */
export class Aliases {
  constructor(
    private readonly collections: OpenCollections,
    private readonly catalog: Catalog,
  ) {}

  /** Points a new alias at a collection. */
  async create(db: string, collection: string, alias: string): Promise<void> {
    validateName('alias', alias);
    const rt = this.collections.runtime(db, collection);
    if (rt.info.name !== collection) throw invalidParameter(`${collection} is an alias; aliases point at collections`);
    const other = this.collections.find(db, alias) ?? this.collections.findDamaged(alias);
    if (other) {
      if (other.info.name === alias) throw new AliasConflictError(db, alias);
      throw new AliasExistsError(db, alias);
    }
    rt.info.aliases.push(alias);
    await this.catalog.putCollection(rt.info);
  }

  /** Moves an alias to another collection (both descriptions in one catalog write). */
  async alter(db: string, collection: string, alias: string): Promise<void> {
    validateName('alias', alias);
    const target = this.collections.runtime(db, collection);
    const current = this.owner(db, alias);
    if (current === target) return;
    current.info.aliases = current.info.aliases.filter((a) => a !== alias);
    target.info.aliases.push(alias);
    await this.catalog.write([this.catalog.putCollectionOp(current.info), this.catalog.putCollectionOp(target.info)]);
  }

  /** Removes an alias. */
  async drop(db: string, alias: string): Promise<void> {
    const rt = this.owner(db, alias);
    rt.info.aliases = rt.info.aliases.filter((a) => a !== alias);
    await this.catalog.putCollection(rt.info);
  }

  /** The collection an alias points at. */
  describe(db: string, alias: string): { dbName: string; collectionName: string; aliasName: string } {
    const rt = this.owner(db, alias);
    return { dbName: DEFAULT_DB, collectionName: rt.info.name, aliasName: alias };
  }

  /** The aliases of a collection, or of every collection. */
  list(db: string, collection?: string): string[] {
    this.collections.checkDb(db);
    if (collection) return [...this.collections.runtime(db, collection).info.aliases];
    return [...this.collections.runtimes.values()].flatMap((r) => r.info.aliases);
  }

  private owner(db: string, alias: string): CollectionRuntime {
    this.collections.checkDb(db);
    for (const rt of this.collections.runtimes.values()) if (rt.info.aliases.includes(alias)) return rt;
    throw new AliasNotFoundError(db, alias);
  }
}
