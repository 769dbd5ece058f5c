import type { Metric, Registry } from 'prom-client';

/** One series: its labels and cumulative bucket counts, as the caller tallies them. */
export interface HistogramSeries {
  labels: Record<string, string>;
  count: number;
  sumMs: number;
  /** Cumulative counts, one per bound the histogram was made with: how many took at most that. */
  buckets: readonly { count: number }[];
}

type Sample = { labels: Record<string, string | number>; value: number; metricName: string };

/**
 * A Prometheus histogram (seconds) read from the caller's own tallies when it is scraped.
 * prom-client's `Histogram.observe` validates and hashes the labels on every call, which showed
 * in profiles of the call path; this keeps the hot path to the tally and only formats on scrape.
 * Like the middleware's counters it reports running totals: `registry.resetMetrics()` leaves it.
 */
export class ScrapedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    /** Bucket upper bounds in seconds, ascending. */
    private readonly boundsS: readonly number[],
    private readonly read: () => Iterable<HistogramSeries>,
  ) {}

  register(registry: Registry): void {
    // prom-client's registry only reads name, help, type, aggregator and get(), and calls reset().
    registry.registerMetric(this as unknown as Metric);
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.read()) {
      if (s.count === 0) continue;
      s.buckets.forEach((b, i) => values.push({ labels: { ...s.labels, le: this.boundsS[i]! }, value: b.count, metricName: `${this.name}_bucket` }));
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sumMs / 1000, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
