/**
 * The Lambda roles' metrics: what an invocation records comes out at its end as CloudWatch EMF
 * lines — a counter's sum per label set, each observed latency, a gauge's sample — with the role as
 * a dimension, and nothing is published twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmfMetrics } from '../../lib/adapters/aws/emf-metrics.ts';
import { meteredWal } from '../../lib/adapters/metrics/metered-wal.ts';
import { MemoryWal } from '../../lib/adapters/memory/memory-wal.ts';

/** The JSON lines written to stdout while `fn` runs. */
async function stdoutLines(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('EMF metrics', () => {
  it("publishes an invocation's counters, latencies and gauges as EMF lines, once", async () => {
    const metrics = new EmfMetrics('Migrans', 'datanode');
    const wal = meteredWal(new MemoryWal(), metrics);
    await wal.append('ch', [new Uint8Array(300), new Uint8Array(200)]);
    await wal.read('ch', 0n, 10);
    metrics.histogram('migrans_request_duration_seconds', '', ['route']).observe({ route: 'insert' }, 0.25);
    metrics.gauge('migrans_owned_channels', '', [], () => [{ value: 3 }]);
    const lines = await stdoutLines(() => metrics.flush());
    const value = (name: string) => lines.find((l) => name in l);
    assert.equal(value('migrans_wal_bytes_written_total')?.migrans_wal_bytes_written_total, 500);
    assert.equal(value('migrans_wal_bytes_read_total')?.migrans_wal_bytes_read_total, 500);
    const latency = value('migrans_request_duration_seconds')!;
    assert.equal(latency.route, 'insert');
    assert.equal(latency.migrans_request_duration_seconds, 0.25);
    assert.equal(value('migrans_owned_channels')?.migrans_owned_channels, 3);
    for (const l of lines) {
      const aws = l._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
      assert.equal(aws.CloudWatchMetrics[0].Namespace, 'Migrans');
      assert.ok(aws.CloudWatchMetrics[0].Dimensions[0].includes('service') && l.service === 'datanode', 'the role is a dimension');
    }
    const again = await stdoutLines(() => metrics.flush());
    assert.deepEqual(
      again.map((l) => Object.keys(l).filter((k) => k.startsWith('migrans_'))),
      [['migrans_owned_channels']],
      'counters and latencies are published once; a gauge is sampled at every flush',
    );
  });
});
