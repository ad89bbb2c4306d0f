/**
 * The metrics port over prom-client: one registry per process, exposed as Prometheus text at
 * GET /metrics (lib/api/metrics-route.ts). Default Node process metrics (CPU, memory, event-loop
 * lag, GC) are included, prefixed `migrans_`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExposedMetrics, GaugeSample, Counter as MetricsCounter, Histogram as MetricsHistogram } from '../../engine/ports/metrics.ts';

/** Latency buckets in seconds, from 100 µs (an in-memory search) to 30 s (API Gateway's limit). */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Prometheus metrics of one process. */
export class PrometheusMetrics implements ExposedMetrics {
  /** The registry scraped at /metrics. */
  readonly registry = new Registry();
  private readonly counters = new Map<string, MetricsCounter>();
  private readonly histograms = new Map<string, MetricsHistogram>();

  /** `defaultLabels` go on every sample (e.g. the querynode id). */
  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: 'migrans_' });
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): MetricsCounter {
    let c = this.counters.get(name);
    if (!c) {
      const metric = new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
      c = { inc: (labels = {}, by = 1) => metric.inc(labels, by) };
      this.counters.set(name, c);
    }
    return c;
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = LATENCY_BUCKETS): MetricsHistogram {
    let h = this.histograms.get(name);
    if (!h) {
      const metric = new Histogram({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [this.registry] });
      h = { observe: (labels, value) => metric.observe(labels, value) };
      this.histograms.set(name, h);
    }
    return h;
  }

  gauge(name: string, help: string, labelNames: readonly string[], collect: () => GaugeSample[] | Promise<GaugeSample[]>): void {
    if (this.registry.getSingleMetric(name)) throw new TypeError(`metric ${name} is already registered`);
    new Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await collect()) this.set(s.labels ?? {}, s.value);
      },
    });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
