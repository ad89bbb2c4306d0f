/**
 * The metrics port: counters, histograms and gauges every role records through, exported by the
 * deployment (Prometheus text on the embedded server and the querynodes). Label values must come
 * from small sets (routes, channels, roles), never from request data. NOOP_METRICS records nothing,
 * for tests and tools.
 */

/** Label name → value. */
export type Labels = Record<string, string>;

/** A monotonic count. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

/** A distribution of observed values (latencies in seconds). */
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** One sample of a gauge read when the metrics are collected. */
export interface GaugeSample {
  labels?: Labels;
  value: number;
}

/** Creates metrics; the same name twice returns the same metric. */
export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  histogram(name: string, help: string, labelNames: readonly string[], buckets?: readonly number[]): Histogram;
  /** A gauge whose samples `collect` returns at each scrape (state read, not tracked). */
  gauge(name: string, help: string, labelNames: readonly string[], collect: () => GaugeSample[] | Promise<GaugeSample[]>): void;
}

const NOOP_COUNTER: Counter = { inc() {} };
const NOOP_HISTOGRAM: Histogram = { observe() {} };

/** Metrics that record nothing. */
export const NOOP_METRICS: Metrics = {
  counter: () => NOOP_COUNTER,
  histogram: () => NOOP_HISTOGRAM,
  gauge() {},
};

/** Metrics a server can expose as text (GET /metrics). */
export interface ExposedMetrics extends Metrics {
  text(): Promise<string>;
  readonly contentType: string;
}
