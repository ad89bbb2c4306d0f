/** Engine tuning knobs, with Milvus-like defaults. Read from the environment in lib/config.ts. */
import { DEFAULT_SEARCH_EF } from './ports/vector-index.ts';

/** Thresholds and timings of the engine's roles. */
export interface EngineConfig {
  /** Seal a growing segment at this many rows (no cap by default: segments are sized in bytes)… */
  sealRows: number;
  /** …or at this many bytes (Milvus seals near 128 MB: 0.12 of its 1 GB maximum segment size). */
  sealBytes: number;
  /**
   * Largest segment compaction builds by merging flushed segments (Milvus dataCoord.segment.maxSize,
   * 1 GB): a search visits one HNSW graph per segment, so a few large segments search much faster
   * than many sealed-size ones (1M × 128 in 10 graphs reached a quarter of one graph's QPS).
   */
  maxSegmentBytes: number;
  /** Seal a growing segment that received nothing for this long, so it gets indexed. */
  idleSealMs: number;
  /** How long a read waits for its consistency guarantee before failing. */
  consistencyTimeoutMs: number;
  /** Bounded staleness window (Milvus common.gracefulTime). */
  gracefulTimeMs: number;
  /** Flushed segments under this fraction of maxSegmentBytes are merged by compaction (Milvus segment.smallProportion). */
  smallSegmentRatio: number;
  /** Segments with at least this fraction of deleted rows are rewritten by compaction. */
  deleteRatio: number;
  /** How often background compaction looks for work (0 disables it; the API can still trigger it). */
  compactionIntervalMs: number;
  /**
   * Growing data (all collections, channels and partitions) at which the largest growing segment
   * is sealed early; at 1.5 × it, counting sealed segments not yet flushed, inserts are refused
   * with Milvus's quota error (lib/engine/growing-memory.ts). The embedded server defaults it from
   * the machine's memory (lib/config.ts).
   */
  growingBudgetBytes: number;
  /** HNSW beam width when a search does not set `ef` (default DEFAULT_SEARCH_EF). */
  defaultSearchEf: number;
  /** Filtered search scans candidates exactly when at most this many rows pass the filter… */
  exactSearchMaxCandidates: number;
  /** …or when at most this fraction of a segment's rows pass. */
  exactSearchMaxSelectivity: number;
}

/** Defaults for every knob. */
export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  sealRows: Number.MAX_SAFE_INTEGER,
  sealBytes: 128 * 1024 * 1024,
  maxSegmentBytes: 1024 * 1024 * 1024,
  idleSealMs: 10_000,
  consistencyTimeoutMs: 10_000,
  gracefulTimeMs: 5_000,
  smallSegmentRatio: 0.5,
  deleteRatio: 0.2,
  compactionIntervalMs: 60_000,
  growingBudgetBytes: 1024 * 1024 * 1024,
  defaultSearchEf: DEFAULT_SEARCH_EF,
  exactSearchMaxCandidates: 4096,
  exactSearchMaxSelectivity: 0.05,
};
