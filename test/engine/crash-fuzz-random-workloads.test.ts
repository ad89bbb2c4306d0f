/**
 * Model-checked random workloads on the crash harness (memory adapters shared across
 * engine instances). A few fixed seeds, each well under 10 s; the same generators ran for hundreds
 * of seeds when written (SEEDS=a-b to widen locally).
 *  - crash: three writers on disjoint keys (insert / upsert / partition-scoped delete, two
 *    partitions, 1–3 shards) race flushes and compactions; the process dies at a random storage
 *    call; after reopening, every key shows its last acknowledged value (or the value of the op the
 *    crash cut short), once, in query, count(*), get and search; compaction and a clean restart
 *    change nothing.
 *  - faults: one writer while 3–13 % of all KV, object and WAL-read calls fail transiently; the
 *    engine must converge to the exact model, also after compaction and a restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { rng, simpleSpec } from '../support/data.ts';
import { SharedStores, type Instance } from '../support/crash-harness.ts';

const D = 'default';
const K = 48;
type Val = { p: string; v: number };
type Op = { kind: 'ins'; rows: { id: number; v: number }[]; p: string; upsert: boolean } | { kind: 'del'; ids: number[]; p?: string };
const seedRange = (dflt: string) => (process.env.SEEDS ?? dflt).split('-').map(Number);

/** The visible state by key, after checking that query, count(*), get and search agree. */
async function state(db: EngineDatabase): Promise<Map<number, Val>> {
  const rows = await db.query(D, 'c', { filter: 'id >= 0', outputFields: ['id'] });
  const ids = rows.map((r) => Number(r.id));
  assert.equal(new Set(ids).size, ids.length, `a key shows twice: ${ids.sort((a, b) => a - b)}`);
  const m = new Map<number, Val>();
  for (const p of await db.listPartitions(D, 'c')) {
    for (const r of await db.query(D, 'c', { filter: 'id >= 0', outputFields: ['vector'], partitionNames: [p] })) {
      m.set(Number(r.id), { p, v: Math.round((r.vector as Float32Array)[0]) });
    }
  }
  assert.equal(m.size, rows.length);
  const [{ 'count(*)': n }] = await db.query(D, 'c', { filter: '', outputFields: ['count(*)'] });
  assert.equal(n, rows.length, 'count(*) agrees with query');
  assert.equal((await db.get(D, 'c', [...Array(K).keys()].map(BigInt), {})).length, rows.length, 'get agrees with query');
  const [hits] = await db.search(D, 'c', { vectors: [new Float32Array([0, 0, 0, 1])], limit: K + 5 });
  assert.equal(hits.length, rows.length, 'search returns every live row');
  return m;
}

function randomOp(r: () => number, keys: number[], ver: () => number): Op {
  if (r() < 0.6) {
    const rows = new Map<number, { id: number; v: number }>();
    for (let j = 0, n = 1 + Math.floor(r() * 4); j < n; j++) {
      const id = keys[Math.floor(r() * keys.length)];
      rows.set(id, { id, v: ver() });
    }
    return { kind: 'ins', rows: [...rows.values()], p: r() < 0.5 ? '_default' : 'p1', upsert: r() < 0.5 };
  }
  return {
    kind: 'del',
    ids: Array.from({ length: 1 + Math.floor(r() * 3) }, () => keys[Math.floor(r() * keys.length)]),
    p: r() < 0.2 ? (r() < 0.5 ? '_default' : 'p1') : undefined,
  };
}

function run(db: EngineDatabase, op: Op): Promise<unknown> {
  return op.kind === 'ins'
    ? db.insert(
        D,
        'c',
        op.rows.map((q) => ({ id: q.id, vector: [q.v, 0, 0, 1] })),
        { upsert: op.upsert, partitionName: op.p },
      )
    : db.delete(D, 'c', `id in [${op.ids.join(',')}]`, { partitionName: op.p });
}

/** The value of key `id` after `op`, given its value before. */
function after(op: Op, id: number, before: Val | undefined): Val | undefined {
  if (op.kind === 'ins') {
    const q = op.rows.find((z) => z.id === id);
    return q ? { p: op.p, v: q.v } : before;
  }
  return op.ids.includes(id) && before && (!op.p || before.p === op.p) ? undefined : before;
}

const same = (a: Val | undefined, b: Val | undefined) => (a === undefined ? b === undefined : b !== undefined && a.p === b.p && a.v === b.v);

describe('crash anywhere, concurrently', () => {
  const [from, to] = seedRange('1-6');
  for (let seed = from; seed <= to; seed++) {
    it(`seed ${seed}`, async () => {
      const r = rng(seed);
      const s = new SharedStores();
      const cfg = { sealRows: 4 + Math.floor(r() * 8), consistencyTimeoutMs: 5000, smallSegmentRatio: 0.9, deleteRatio: 0.1 };
      let calls = 0;
      let counting = true;
      const crashAt = 100 + Math.floor(r() * 1500);
      let crashed!: () => void;
      const crash = new Promise<'crash'>((res) => (crashed = () => res('crash')));
      const a: Instance = await s.open(cfg, (i) =>
        i.before.push(() => {
          if (counting && ++calls === crashAt) {
            i.crash();
            crashed();
          }
        }),
      );
      await a.db.createCollection(D, simpleSpec('c', 4, { shards: 1 + Math.floor(r() * 3) }));
      await a.db.createPartition(D, 'c', 'p1');
      const model = new Map<number, Val | undefined>();
      const cut = new Map<number, (Val | undefined)[]>();
      let v = 1;
      let dead = false;
      const writer = async (w: number) => {
        const wr = rng(seed * 100 + w);
        const mine = [...Array(K).keys()].filter((k) => k % 3 === w);
        for (let step = 0; step < 25 && !dead; step++) {
          const op = randomOp(wr, mine, () => v++);
          const res = await Promise.race([run(a.db, op).then(() => 'ok' as const), crash]);
          const keys = new Set(op.kind === 'ins' ? op.rows.map((q) => q.id) : op.ids);
          if (res === 'crash') {
            for (const id of keys) cut.set(id, [model.get(id), after(op, id, model.get(id))]);
            dead = true;
            return;
          }
          for (const id of keys) model.set(id, after(op, id, model.get(id)));
        }
      };
      const background = async () => {
        for (let i = 0; i < 12 && !dead; i++) {
          const job = r() < 0.5 ? a.db.flush(D, 'c') : a.db.runtimeOf('c').compact();
          if ((await Promise.race([job.then(() => 'ok' as const), crash])) === 'crash') return;
          await new Promise((res) => setTimeout(res, r() * 5));
        }
      };
      await Promise.all([writer(0), writer(1), writer(2), background()]);
      counting = false;
      const check = (st: Map<number, Val>, label: string) => {
        for (let id = 0; id < K; id++) {
          const allowed = cut.get(id) ?? [model.get(id)];
          assert.ok(
            allowed.some((x) => same(x, st.get(id))),
            `${label}: key ${id} is ${JSON.stringify(st.get(id))}, expected one of ${JSON.stringify(allowed)}`,
          );
        }
      };
      if (calls < crashAt) {
        check(await state(a.db), 'before the crash');
        a.crash();
      }
      const b = await s.open(cfg);
      const st = await state(b.db);
      check(st, 'after the crash');
      await b.db.runtimeOf('c').compact();
      assert.deepEqual(await state(b.db), st, 'compaction after the restart changes nothing');
      await b.db.close();
      const c = await s.open(cfg);
      assert.deepEqual(await state(c.db), st, 'a clean restart changes nothing');
      await c.db.close();
      s.cleanup();
    });
  }
});

describe('transient storage faults', () => {
  const [from, to] = seedRange('1-4');
  for (let seed = from; seed <= to; seed++) {
    it(`seed ${seed}`, async () => {
      const r = rng(seed);
      const fr = rng(seed * 7919);
      const s = new SharedStores();
      const cfg = { sealRows: 6 + Math.floor(r() * 10), consistencyTimeoutMs: 20000, smallSegmentRatio: 0.9 };
      let on = false;
      const rate = 0.03 + r() * 0.1;
      // WAL appends stay reliable: a failed append is simply not acknowledged (and may be partial across shards).
      const a = await s.open(cfg, (i) => i.faults.push((port, method) => on && !(port === 'wal' && method === 'append') && fr() < rate));
      await a.db.createCollection(D, simpleSpec('c', 4, { shards: 1 + Math.floor(r() * 2) }));
      await a.db.createPartition(D, 'c', 'p1');
      on = true;
      const model = new Map<number, Val | undefined>();
      let v = 1;
      const keys = [...Array(40).keys()];
      for (let step = 0; step < 40; step++) {
        const x = r();
        if (x < 0.8) {
          const op = randomOp(r, keys, () => v++);
          await run(a.db, op);
          for (const id of op.kind === 'ins' ? op.rows.map((q) => q.id) : op.ids) model.set(id, after(op, id, model.get(id)));
        } else if (x < 0.9) await a.db.flush(D, 'c').catch(() => undefined);
        else
          await a.db
            .runtimeOf('c')
            .compact()
            .catch(() => undefined);
      }
      on = false;
      const expected = new Map([...model].filter((e): e is [number, Val] => e[1] !== undefined));
      assert.deepEqual(await state(a.db), expected);
      await a.db.runtimeOf('c').compact();
      assert.deepEqual(await state(a.db), expected, 'after compaction');
      await a.db.close();
      const b = await s.open(cfg);
      assert.deepEqual(await state(b.db), expected, 'after a restart');
      await b.db.close();
      s.cleanup();
    });
  }
});
