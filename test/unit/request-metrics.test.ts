/**
 * Request metrics and the engine's gauges as Prometheus text: requests are counted and timed under
 * the router's route names (anything else as "other", so clients cannot grow the label set), the
 * WAL's bytes are counted, and the gauges follow what the engine holds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrometheusMetrics } from '../../lib/adapters/metrics/prometheus-metrics.ts';
import { meteredWal } from '../../lib/adapters/metrics/metered-wal.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';
import { registerEngineGauges } from '../../lib/api/engine-gauges.ts';
import { withRequestMetrics } from '../../lib/api/request-metrics.ts';
import { handleRequest } from '../../lib/api/router.ts';
import { NOOP_LOGGER } from '../../lib/engine/ports/logger.ts';
import { memoryDatabase, simpleSpec } from '../support/engine.ts';

const post = (path: string, body: unknown) => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('request metrics', () => {
  it('counts requests per known route and outcome, lumps unknown paths together, and reports the engine gauges', async () => {
    const { db, cleanup } = await memoryDatabase();
    try {
      const metrics = new PrometheusMetrics();
      registerEngineGauges(metrics, db);
      const handle = withRequestMetrics((req, log) => handleRequest(db, req, { logger: log }), metrics);
      await db.createCollection('default', simpleSpec('c', 4));
      await db.insert('default', 'c', [{ id: 1, vector: [1, 0, 0, 0] }], { upsert: false });
      await handle(post('/v2/vectordb/collections/list', {}), NOOP_LOGGER);
      await handle(post('/v2/vectordb/collections/describe', { collectionName: 'nope' }), NOOP_LOGGER);
      for (const p of ['/v2/vectordb/a/b', '/v2/vectordb/c/d', '/x']) await handle(post(p, {}), NOOP_LOGGER);
      const reply = await handle({ method: 'GET', path: '/metrics', headers: {}, body: '' }, NOOP_LOGGER);
      assert.equal(reply.status, 200);
      const text = String(reply.body);
      assert.match(text, /migrans_requests_total\{route="\/v2\/vectordb\/collections\/list",outcome="ok"\} 1/);
      assert.match(text, /migrans_requests_total\{route="\/v2\/vectordb\/collections\/describe",outcome="error"\} 1/, 'an error answer counts as an error');
      assert.match(text, /migrans_requests_total\{route="other",outcome="error"\} 3/, 'unknown paths share one label');
      assert.doesNotMatch(text, /route="\/v2\/vectordb\/a\/b"/);
      assert.match(text, /migrans_request_duration_seconds_count\{route="\/v2\/vectordb\/collections\/list"\} 1/);
      assert.match(text, /migrans_growing_rows\{collection="c"\} 1/, 'the growing row is reported');
      assert.match(text, /migrans_tsafe_lag_seconds\{collection="c",channel="[^"]+"\} 0/, 'a caught-up channel lags by 0');
    } finally {
      await cleanup();
    }
  });

  it('counts the WAL bytes a process appends and reads', async () => {
    const metrics = new PrometheusMetrics();
    const wal = meteredWal(new MemoryWal(), metrics);
    await wal.append('ch', [new Uint8Array(10), new Uint8Array(5)]);
    await wal.read('ch', 0n, 10);
    await wal.tail('ch');
    const text = await metrics.text();
    assert.match(text, /migrans_wal_bytes_written_total 15/);
    assert.match(text, /migrans_wal_bytes_read_total 15/);
    assert.match(text, /migrans_wal_tail_reads_total 1/);
  });
});
