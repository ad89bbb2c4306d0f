/**
 * Invariant 2, acknowledged means durable: a server under sustained insert and upsert traffic is
 * killed with SIGKILL; after a restart every acknowledged row is present exactly once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../support/engine.ts';
import { call, startServerProcess } from '../support/server-process.ts';

const DIM = 8;
const vector = (i: number) => Array.from({ length: DIM }, (_, j) => Math.cos(i * 0.37 + j));

describe('crash safety', () => {
  it('keeps every acknowledged row, exactly once, across kill -9', async () => {
    const tmp = tempDir();
    const env = { MIGRANS_SEAL_ROWS: '400' }; // several sealed segments, flushed and in flight, at the kill
    let server = await startServerProcess(tmp.dir, env);
    const created = await call(server.url, 'collections/create', {
      collectionName: 'crash',
      dimension: DIM,
      metricType: 'L2',
      params: { consistencyLevel: 'Strong', shardsNum: 2 },
    });
    assert.equal(created.code, 0, JSON.stringify(created));

    // Latest acknowledged value per key: upserts overwrite keys written earlier by any writer.
    const acked = new Map<number, number>();
    let stop = false;
    let batches = 0;
    const writer = async (w: number) => {
      for (let b = 0; !stop; b++) {
        const rows = Array.from({ length: 50 }, (_, k) => {
          const id = b % 3 === 2 ? w * 100_000 + (b - 2) * 50 + k : w * 100_000 + b * 50 + k;
          return { id, vector: vector(id), version: b };
        });
        try {
          const res = await call(server.url, b % 3 === 2 ? 'entities/upsert' : 'entities/insert', { collectionName: 'crash', data: rows });
          if (res.code !== 0) throw new Error(JSON.stringify(res));
          for (const r of rows) acked.set(r.id, r.version);
          batches++;
        } catch {
          return; // the server died under us
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (batches < 40) await sleep(10);
    await call(server.url, 'collections/flush', { collectionName: 'crash' }); // some rows in sealed segments
    const target = batches + 30;
    while (batches < target) await sleep(5);
    await server.kill();
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.size > 1000, `only ${acked.size} rows were acknowledged before the kill`);

    server = await startServerProcess(tmp.dir, env);
    try {
      const page = await call(server.url, 'entities/query', { collectionName: 'crash', filter: 'id >= 0', outputFields: ['id', 'version'], limit: 16_384 });
      assert.equal(page.code, 0, JSON.stringify(page));
      const rows = page.data as { id: number; version: number }[];
      assert.ok(rows.length < 16_384, 'the test writes fewer rows than one query page holds');
      const seen = new Map<number, number>();
      for (const r of rows) {
        assert.ok(!seen.has(r.id), `key ${r.id} appears twice after the restart`);
        seen.set(r.id, r.version);
      }
      for (const [id, version] of acked) {
        assert.ok(seen.has(id), `acknowledged key ${id} is missing after the restart`);
        assert.ok(seen.get(id)! >= version, `key ${id} lost its acknowledged overwrite (has version ${seen.get(id)}, acknowledged ${version})`);
      }
      const count = await call(server.url, 'entities/query', { collectionName: 'crash', filter: '', outputFields: ['count(*)'] });
      assert.equal(count.data[0]['count(*)'], seen.size);
      console.log(`# crash test: ${acked.size} acknowledged keys, ${seen.size} present after kill -9 and restart, none duplicated`);
    } finally {
      await server.stop();
      tmp.cleanup();
    }
  });
});
