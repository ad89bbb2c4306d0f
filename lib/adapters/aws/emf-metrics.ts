/**
 * The metrics port on Lambda: what an invocation records is published at its end as CloudWatch
 * embedded-metric-format lines (through @aws-lambda-powertools/metrics, the same family as the
 * logger), one per metric and label set, so CloudWatch builds the metrics from the function's logs
 * with no API call. Counters publish their sum, histograms their observed values, gauges a sample.
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Counter, GaugeSample, Histogram, Labels, Metrics } from '../../engine/ports/metrics.ts';

/** Metrics buffered per invocation and published as EMF by `flush`. */
export class EmfMetrics implements Metrics {
  private readonly emf: PowertoolsMetrics;
  private readonly sums = new Map<string, { name: string; labels: Labels; value: number }>();
  private readonly observed = new Map<string, { name: string; labels: Labels; values: number[] }>();
  private readonly gauges: { name: string; collect: () => GaugeSample[] | Promise<GaugeSample[]> }[] = [];

  /** `namespace`: the CloudWatch namespace; `service`: the role (a dimension of every metric). */
  constructor(namespace: string, service: string) {
    this.emf = new PowertoolsMetrics({ namespace, serviceName: service });
  }

  counter(name: string, _help?: string, _labelNames?: readonly string[]): Counter {
    return {
      inc: (labels = {}, by = 1) => {
        const key = `${name}${JSON.stringify(labels)}`;
        const entry = this.sums.get(key);
        if (entry) entry.value += by;
        else this.sums.set(key, { name, labels, value: by });
      },
    };
  }

  histogram(name: string, _help?: string, _labelNames?: readonly string[], _buckets?: readonly number[]): Histogram {
    return {
      observe: (labels, value) => {
        const key = `${name}${JSON.stringify(labels)}`;
        const entry = this.observed.get(key);
        if (entry) entry.values.push(value);
        else this.observed.set(key, { name, labels, values: [value] });
      },
    };
  }

  gauge(name: string, _help: string, _labelNames: readonly string[], collect: () => GaugeSample[] | Promise<GaugeSample[]>): void {
    this.gauges.push({ name, collect });
  }

  /** Publishes what was recorded since the last flush (call at the end of each invocation) and starts over. */
  async flush(): Promise<void> {
    const publish = (name: string, labels: Labels, unit: (typeof MetricUnit)[keyof typeof MetricUnit], values: number[]) => {
      for (const v of values) {
        const metric = this.emf.singleMetric(); // published as soon as its value is added
        for (const [k, l] of Object.entries(labels)) metric.addDimension(k, l);
        metric.addMetric(name, unit, v);
      }
    };
    for (const s of this.sums.values()) publish(s.name, s.labels, MetricUnit.Count, [s.value]);
    for (const o of this.observed.values()) publish(o.name, o.labels, MetricUnit.Seconds, o.values.slice(0, 100)); // EMF holds 100 values per metric
    for (const g of this.gauges) for (const sample of await g.collect()) publish(g.name, sample.labels ?? {}, MetricUnit.Count, [sample.value]);
    this.sums.clear();
    this.observed.clear();
  }
}
