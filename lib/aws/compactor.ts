/**
 * The compactor on AWS (a scheduled Lambda): seals channels that went idle with unflushed records
 * (a flush record, which wakes their datanode) and runs the compactions the flushed segments call
 * for. A compaction's output is written here; the channel's datanode commits it when it applies the
 * compaction record, which keeps the PK index exact.
 */
import { Catalog, type SegmentMeta } from '../engine/catalog/catalog.ts';
import { decodeJson, encodeJson } from '../engine/catalog/json-codec.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import type { EngineDatabase } from '../engine/engine-database.ts';
import { openRoleDatabase, type SharedStores } from './shared-stores.ts';

/** What one compactor run did. */
export interface CompactorRun {
  /** Channels sealed for being idle. */
  sealed: string[];
  /** Compaction plans whose output was written and committed to the WAL. */
  compactions: number;
}

/** The compactor over the deployment's shared stores. */
export class Compactor {
  private constructor(
    private readonly db: EngineDatabase,
    private readonly stores: SharedStores,
  ) {}

  /** Opens the compactor; `indexSegment` hands segments to the indexer. */
  static async open(stores: SharedStores, config: Partial<EngineConfig>, indexSegment: (meta: SegmentMeta) => void): Promise<Compactor> {
    const db = await openRoleDatabase(stores, 'compactor', config, { loadsSegments: () => true, applies: () => false, indexSegment });
    return new Compactor(db, stores);
  }

  /** One scheduled run over every collection. */
  async run(): Promise<CompactorRun> {
    const out: CompactorRun = { sealed: [], compactions: 0 };
    const catalog = new Catalog(this.stores.kv);
    for (const info of await catalog.listCollections()) {
      // Reopened every run: compaction plans from the flushed segments as they are now.
      const rt = await this.db.reopenCollection(info.collectionId);
      if (!rt) continue;
      const idle = [];
      for (const ch of rt.channels) {
        // Idle: records beyond the checkpoint, and no append since the previous run.
        const [tail, cp] = await Promise.all([this.stores.wal.tail(ch.name), catalog.getCheckpoint(ch.name)]);
        const key = `idle/${ch.name}`;
        const seen = await this.stores.kv.get(key);
        if (cp.position < tail && seen && decodeJson<string>(seen) === String(tail)) idle.push(ch);
        else await this.stores.kv.put(key, encodeJson(String(tail)));
      }
      if (idle.length > 0) {
        await rt.appendFlushRecords(idle);
        out.sealed.push(...idle.map((c) => c.name));
      }
      out.compactions += await rt.compact();
    }
    return out;
  }

  /** Closes the engine. */
  close(): Promise<void> {
    return this.db.close();
  }
}
