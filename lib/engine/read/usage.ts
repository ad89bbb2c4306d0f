/**
 * What a process holds of one collection, for the metrics gauges: flushed segments and how many
 * are in memory or on local disk, the estimated bytes of sealed data in memory (vectors of resident segments;
 * keys, timestamps and scalars of every segment), growing rows, and for each channel it applies
 * how far its tSafe lags behind now.
 */
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import { estimatedRowBytes } from '../segment/segment.ts';
import { physicalMs } from '../tso.ts';

/** One collection's holdings in this process. */
export interface CollectionUsage {
  collection: string;
  flushedSegments: number;
  residentSegments: number;
  /** Flushed segments whose vectors are on local disk (or in memory); the others are remote. */
  localSegments: number;
  /** Estimated bytes of flushed segments in memory. */
  sealedBytes: number;
  growingRows: number;
  /** Per channel applied here: now − tSafe in ms (0 when caught up). */
  channels: { channel: string; lagMs: number }[];
}

/** The usage of a collection runtime. */
export function collectionUsage(rt: CollectionRuntime, nowMs: number): CollectionUsage {
  const schema = rt.info.schema;
  const rowBytes = estimatedRowBytes(schema);
  let vectorBytes = 0;
  for (const f of schema.fields) if (f.dataType === 'FloatVector') vectorBytes += 4 * f.dim!;
  const usage: CollectionUsage = { collection: rt.info.name, flushedSegments: 0, residentSegments: 0, localSegments: 0, sealedBytes: 0, growingRows: 0, channels: [] };
  for (const seg of rt.segments.values()) {
    if (seg.meta.state !== 'Flushed') {
      usage.growingRows += seg.rowCount;
      continue;
    }
    usage.flushedSegments++;
    if (seg.resident) usage.residentSegments++;
    if (rt.role.segments.hasLocalVectors?.(seg) ?? true) usage.localSegments++;
    usage.sealedBytes += seg.rowCount * (seg.resident ? rowBytes : rowBytes - vectorBytes);
  }
  for (const ch of rt.state.channels) {
    if (!rt.role.share.applies(ch.name)) continue;
    usage.channels.push({ channel: ch.name, lagMs: Math.max(0, nowMs - physicalMs(rt.visibility.tSafe(ch))) });
  }
  return usage;
}
