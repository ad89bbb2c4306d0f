/** What every benchmarked system implements, and what the harness hands it. */
import type { Dataset } from '../data.ts';
import type { Progress } from '../progress.ts';

/** Shared settings of one run. */
export interface BenchContext {
  ds: Dataset;
  /** Results per query (recall@k). */
  k: number;
  /** HNSW graph degree and construction beam, the same for every system. */
  M: number;
  efConstruction: number;
  /** Threads for index builds (raw usearch's build and the engine's build worker both use 2). */
  buildThreads: number;
  /** Rows per insert request. */
  batchRows: number;
  /** Concurrent insert requests through the API. */
  ingestConcurrency: number;
  /** Scratch directory for this system's files (deleted after the run). */
  workDir: string;
  progress: Progress;
}

/** A sweep point: `ef` is the HNSW beam; `refine` is LanceDB's refine factor when used. */
export interface SweepParam {
  ef: number;
  refine?: number;
}

/** A filter the harness asks for: rows with `bucket < maxBucket`. */
export interface FilterSpec {
  maxBucket: number;
  /** Milvus / SQL expression for it. */
  expr: string;
}

/** Ingest and index build measurements. */
export interface LoadResult {
  rows: number;
  /** Rows acknowledged per second while inserting (API systems), or rows added per second (raw index). */
  rowsPerSecond: number;
  /** Seconds spent inserting until the last acknowledgement. */
  insertSeconds: number;
  /** Seconds from the first insert until every row is sealed and indexed. */
  indexedSeconds: number;
  /** Index build alone, where it is separate (raw usearch, LanceDB). */
  buildSeconds?: number;
  peakRssMiB?: number;
  /** Free-form details (segments, index type…). */
  notes?: string[];
}

/** Freshness sample set for one consistency level. */
export type FreshnessLevel = 'Session' | 'Strong' | 'Eventually';

/** One benchmarked system. Methods a system lacks are skipped (and reported as n/a). */
export interface BenchSystem {
  /** Stable id used by `--systems` and in the results (e.g. `usearch-f32`). */
  id: string;
  label: string;
  kind: 'ceiling' | 'migrans' | 'peer' | 'exact';
  quantization?: 'f32' | 'bf16';
  /** The sweep this system runs (defaults to the harness's ef list). */
  sweep?(efs: number[]): SweepParam[];
  /** Caps the queries per sweep point (exact scan is slow). */
  maxQueries?: number;
  /** Caps the samples of get, write ack and freshness (each one is slow on the AWS emulators). */
  maxSamples?: number;
  /** Builds the index / ingests the rows. */
  load(ctx: BenchContext): Promise<LoadResult>;
  /** Opens what an earlier `load` with the same `ctx.workDir` left there, without loading (bench/profile.ts --reuse). */
  attach?(ctx: BenchContext): Promise<void>;
  /** Top-k row ids for query row `q` of the data set. */
  search(q: number, param: SweepParam, filter?: FilterSpec): ArrayLike<number> | Promise<ArrayLike<number>>;
  /** Whether `search` honours a filter. */
  filtered?: boolean;
  /** How concurrent clients are run: async loops, native threads over a batch, or not at all. */
  concurrency?: 'async' | 'threads';
  /** With `concurrency: 'threads'`: searches a batch of queries with `threads` native threads. */
  searchBatch?(queries: number[], param: SweepParam, threads: number): number[][];
  /** Fetches one row by primary key (the whole row). */
  get?(pk: number): Promise<void> | void;
  /**
   * Inserts `rows` new rows in one request (pks `pk`, `pk + 1`…; vectors copied from the data set)
   * and resolves when the write is acknowledged: what a client waits for per insert.
   */
  writeAck?(pk: number, rows: number): Promise<void>;
  /**
   * Inserts one new row (pk `pk`, vector of query `q`) and returns ack time and the time its first
   * read at `level` showed it (performance.now() ms).
   */
  freshness?(pk: number, q: number, level: FreshnessLevel): Promise<{ ackMs: number; visibleMs: number; polls: number }>;
  /** The server process serving this system, if any (its CPU time is counted per query). */
  serverPid?(): number | undefined;
  /** Runs compaction and waits until it is done and every segment is indexed again; returns the segment count after, where known. */
  compact?(): Promise<{ seconds: number; segments?: number }>;
  /** Closes and reopens the collection, timing until the first query is answered. */
  reopen?(): Promise<Record<string, number>>;
  close(): Promise<void>;
}
