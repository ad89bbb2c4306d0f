/** Engine tuning knobs, with Milvus-like defaults. Read from the environment in lib/config.ts. */

/** Thresholds and timings of the engine's roles. */
export interface EngineConfig {
  /** Seal a growing segment at this many rows… */
  sealRows: number;
  /** …or at this many bytes (Milvus seals near 128 MB). */
  sealBytes: number;
  /** Seal a growing segment that received nothing for this long, so it gets indexed. */
  idleSealMs: number;
  /** How long a read waits for its consistency guarantee before failing. */
  consistencyTimeoutMs: number;
  /** Bounded staleness window (Milvus common.gracefulTime). */
  gracefulTimeMs: number;
  /** Sealed segments under this fraction of sealRows are merged by compaction. */
  smallSegmentRatio: number;
  /** Segments with at least this fraction of deleted rows are rewritten by compaction. */
  deleteRatio: number;
  /** How often background compaction looks for work (0 disables it; the API can still trigger it). */
  compactionIntervalMs: number;
  /** HNSW beam width when a search does not set `ef` (recall ≥ 0.95 on clustered data at 128). */
  defaultSearchEf: number;
  /** Filtered search scans candidates exactly when at most this many rows pass the filter… */
  exactSearchMaxCandidates: number;
  /** …or when at most this fraction of a segment's rows pass. */
  exactSearchMaxSelectivity: number;
}

/** Defaults for every knob. */
export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  sealRows: 100_000,
  sealBytes: 128 * 1024 * 1024,
  idleSealMs: 10_000,
  consistencyTimeoutMs: 10_000,
  gracefulTimeMs: 5_000,
  smallSegmentRatio: 0.5,
  deleteRatio: 0.2,
  compactionIntervalMs: 60_000,
  defaultSearchEf: 128,
  exactSearchMaxCandidates: 4096,
  exactSearchMaxSelectivity: 0.05,
};
