/**
 * Growing data stays under one memory budget across every collection, channel and partition: at
 * the budget the largest growing segments are sealed early, and when flushes cannot keep up
 * inserts are refused with Milvus's quota error (code 9) and write nothing. Each case ends in
 * "every acknowledged row present exactly once, every refused row absent".
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { UsearchIndexFactory } from '../../lib/adapters/vector/usearch-index-factory.ts';
import type { EngineConfig } from '../../lib/engine/engine-config.ts';
import { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { milvusCode, QUOTA_EXCEEDED_CODE } from '../../lib/api/error-codes.ts';
import { MemoryQuotaError } from '../../lib/engine/errors.ts';
import { simpleSpec, tempDir } from '../support/engine.ts';
import { ForwardingObjectStore } from '../support/store-faults.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const D = 'default';
const DIM = 16;
const MiB = 1024 * 1024;
/** Bytes the engine counts per row of simpleSpec(…, 16): 16 + 4 × 16 + 16 (see estimatedRowBytes). */
const ROW_BYTES = 96;

/** An object store whose writes wait while the gate is closed, or take `delayMs` (a slow or stuck flush). */
class GatedObjectStore extends ForwardingObjectStore {
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  delayMs = 0;
  close(): void {
    this.gate ??= new Promise((r) => (this.openGate = r));
  }
  open(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }
  override async put(key: string, data: Uint8Array): Promise<void> {
    while (this.gate) await this.gate;
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.inner.put(key, data);
  }
}

async function openDatabase(config: Partial<EngineConfig>) {
  const tmp = tempDir();
  const objects = new GatedObjectStore(new MemoryObjectStore());
  const db = await EngineDatabase.open({
    kv: new MemoryKvStore(),
    wal: new MemoryWal(),
    objects,
    vectorIndexes: new UsearchIndexFactory(),
    localFiles: new FolderLocalFiles(tmp.dir),
    config: { compactionIntervalMs: 0, idleSealMs: 3_600_000, ...config },
  });
  return {
    db,
    objects,
    cleanup: async () => {
      objects.open();
      await db.close();
      tmp.cleanup();
    },
  };
}

const rowsOf = (ids: number[]) => ids.map((id) => ({ id, vector: Array.from({ length: DIM }, (_, j) => Math.sin(id + j)) }));

/** Asserts the collection holds exactly the acknowledged ids, once each, and none of the refused. */
async function assertExactly(db: EngineDatabase, name: string, acknowledged: Set<number>, refused: Set<number>): Promise<void> {
  const ids = (await db.query(D, name, { filter: 'id >= 0', outputFields: ['id'] })).map((r) => Number(r.id));
  assert.equal(new Set(ids).size, ids.length, `${name}: a key is returned twice`);
  for (const id of ids) assert.ok(!refused.has(id), `${name}: refused row ${id} was written`);
  assert.equal(ids.length, acknowledged.size, `${name}: ${ids.length} rows present, ${acknowledged.size} acknowledged`);
  for (const id of ids) assert.ok(acknowledged.has(id), `${name}: row ${id} was never acknowledged`);
  assert.deepEqual(await db.query(D, name, { filter: '', outputFields: ['count(*)'] }), [{ 'count(*)': acknowledged.size }]);
}

function isQuotaError(err: unknown): err is MemoryQuotaError {
  return (
    err instanceof MemoryQuotaError &&
    milvusCode(err) === QUOTA_EXCEEDED_CODE &&
    /^quota exceeded\[reason=memory quota exceeded, please allocate more resources\]: /.test(err.message)
  );
}

describe('growing-data memory budget', () => {
  it('many collections and shards inserting at once under a small budget stay within it', async () => {
    const budget = MiB;
    const { db, objects, cleanup } = await openDatabase({ growingBudgetBytes: budget });
    try {
      objects.delayMs = 2; // flushes take a while: sealed data piles up behind them
      const names = Array.from({ length: 8 }, (_, i) => `budget_${i}`);
      for (const name of names) await db.createCollection(D, simpleSpec(name, DIM, { shards: 2, index: { indexType: 'FLAT' } }));
      const limit = Math.floor(budget * 1.5);
      let sampledMax = 0;
      const sampler = setInterval(() => {
        const u = db.growingUsage()!;
        sampledMax = Math.max(sampledMax, u.growingBytes + u.sealedBytes + u.reservedBytes);
      }, 1);
      const acknowledged = new Map(names.map((n) => [n, new Set<number>()]));
      const refused = new Map(names.map((n) => [n, new Set<number>()]));
      let refusals = 0;
      // Each lane gets 20 batches acknowledged; a refused batch is retried under new ids.
      const writer = async (name: string, lane: number) => {
        for (let b = 0, done = 0; done < 20; b++) {
          assert.ok(b < 1000, `${name} lane ${lane}: still refused after ${b} attempts`);
          const ids = Array.from({ length: 200 }, (_, i) => (lane * 1000 + b) * 1000 + i);
          try {
            await db.insert(D, name, rowsOf(ids), { upsert: false });
            for (const id of ids) acknowledged.get(name)!.add(id);
            done++;
          } catch (err) {
            assert.ok(isQuotaError(err), `unexpected error: ${err}`);
            for (const id of ids) refused.get(name)!.add(id);
            refusals++;
            await sleep(5);
          }
        }
      };
      await Promise.all(names.flatMap((name) => [writer(name, 0), writer(name, 1)]));
      clearInterval(sampler);
      const usage = db.growingUsage()!;
      const rowsWritten = [...acknowledged.values()].reduce((n, s) => n + s.size, 0);
      assert.ok(rowsWritten * ROW_BYTES > 3 * budget, `the writers acknowledged ${rowsWritten} rows, several budgets' worth`);
      assert.ok(usage.peakBytes <= limit, `peak ${usage.peakBytes} bytes over the ${limit}-byte limit`);
      assert.ok(sampledMax <= limit, `sampled ${sampledMax} bytes over the ${limit}-byte limit`);
      // Segments seal at 128 MiB by default: only the budget sealed these.
      const sealedEarly = names.flatMap((n) => [...db.runtimeOf(n).segments.values()]).filter((s) => s.meta.state !== 'Growing').length;
      assert.ok(sealedEarly > 0, 'growing segments were sealed early');
      for (const name of names) await assertExactly(db, name, acknowledged.get(name)!, refused.get(name)!);
      console.log(`memory budget: ${rowsWritten} rows acknowledged, ${refusals} batches refused, peak ${usage.peakBytes} of ${limit} bytes, ${sealedEarly} segments sealed early`);
    } finally {
      await cleanup();
    }
  });

  it('refuses inserts with the quota error while flushes cannot keep up, writes nothing of them, and accepts again once they do', async () => {
    const { db, objects, cleanup } = await openDatabase({ growingBudgetBytes: MiB });
    try {
      await db.createCollection(D, simpleSpec('stuck', DIM, { shards: 2, index: { indexType: 'FLAT' } }));
      objects.close(); // flushes hang: sealed segments stay in memory
      const acknowledged = new Set<number>();
      const refused = new Set<number>();
      let error: unknown;
      for (let b = 0; b < 100 && error === undefined; b++) {
        const ids = Array.from({ length: 1000 }, (_, i) => b * 1000 + i);
        try {
          await db.insert(D, 'stuck', rowsOf(ids), { upsert: false });
          for (const id of ids) acknowledged.add(id);
          await db.query(D, 'stuck', { filter: 'id == -1' }); // let the batch be applied (and seal what it fills)
        } catch (err) {
          error = err;
          for (const id of ids) refused.add(id);
        }
      }
      assert.ok(isQuotaError(error), `expected the quota error, got ${error}`);
      assert.match((error as Error).message, /retry in a moment/);
      assert.ok(acknowledged.size * ROW_BYTES >= MiB, 'inserts were accepted up to the budget');
      assert.ok(db.growingUsage()!.sealedBytes > 0, 'segments were sealed early and wait for their flush');
      await assertExactly(db, 'stuck', acknowledged, refused);

      objects.open();
      const retry = Array.from({ length: 1000 }, (_, i) => 500_000 + i);
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await db.insert(D, 'stuck', rowsOf(retry), { upsert: false });
          break;
        } catch (err) {
          assert.ok(isQuotaError(err) && Date.now() < deadline, `the retry is still refused: ${err}`);
          await sleep(20);
        }
      }
      for (const id of retry) acknowledged.add(id);
      await assertExactly(db, 'stuck', acknowledged, refused);
    } finally {
      await cleanup();
    }
  });

  it('refuses an insert larger than the whole limit and says to split it', async () => {
    const { db, cleanup } = await openDatabase({ growingBudgetBytes: MiB });
    try {
      await db.createCollection(D, simpleSpec('huge', DIM, { index: { indexType: 'FLAT' } }));
      const ids = Array.from({ length: Math.ceil((1.5 * MiB) / ROW_BYTES) + 10 }, (_, i) => i);
      await assert.rejects(db.insert(D, 'huge', rowsOf(ids), { upsert: false }), (err) => isQuotaError(err) && /split it into smaller batches/.test(err.message));
      await assertExactly(db, 'huge', new Set(), new Set(ids));
      assert.equal(db.growingUsage()!.reservedBytes, 0);
    } finally {
      await cleanup();
    }
  });
});
