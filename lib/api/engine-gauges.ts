/**
 * The gauges of a serving process (embedded server, querynode), read from the engine at each
 * scrape: flushed and resident segments, estimated bytes of sealed data in memory and growing rows
 * per collection, tSafe lag per applied channel, and (where given) the bytes under the local data
 * directory.
 */
import type { Metrics } from '../engine/ports/metrics.ts';
import type { CollectionUsage } from '../engine/read/usage.ts';

/** Registers the engine's gauges; `localDiskBytes` (optional) measures the process's local data. */
export function registerEngineGauges(metrics: Metrics, db: { usage(): CollectionUsage[] }, localDiskBytes?: () => Promise<number>): void {
  const per = (pick: (u: CollectionUsage) => number) => () => db.usage().map((u) => ({ labels: { collection: u.collection }, value: pick(u) }));
  metrics.gauge(
    'migrans_flushed_segments',
    'Flushed segments this process serves or holds',
    ['collection'],
    per((u) => u.flushedSegments),
  );
  metrics.gauge(
    'migrans_resident_segments',
    'Flushed segments whose vectors and indexes are in memory',
    ['collection'],
    per((u) => u.residentSegments),
  );
  metrics.gauge(
    'migrans_local_segments',
    'Flushed segments whose vectors are on local disk or in memory (the others stay in the object store)',
    ['collection'],
    per((u) => u.localSegments),
  );
  metrics.gauge(
    'migrans_sealed_bytes',
    'Estimated bytes of flushed segments in memory',
    ['collection'],
    per((u) => u.sealedBytes),
  );
  metrics.gauge(
    'migrans_growing_rows',
    'Rows in growing segments',
    ['collection'],
    per((u) => u.growingRows),
  );
  metrics.gauge('migrans_tsafe_lag_seconds', 'How far each applied channel lags behind now (0 when caught up)', ['collection', 'channel'], () =>
    db.usage().flatMap((u) => u.channels.map((c) => ({ labels: { collection: u.collection, channel: c.channel }, value: c.lagMs / 1000 }))),
  );
  if (localDiskBytes) metrics.gauge('migrans_local_disk_bytes', 'Bytes under the local data directory', [], async () => [{ value: await localDiskBytes() }]);
}
