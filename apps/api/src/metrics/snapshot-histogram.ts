// A prom-client Histogram whose buckets are not observed in this process but read from elsewhere at
// scrape time (the fleet-wide epoch histograms workers keep in Redis). Registered and rendered like
// any histogram (`_bucket{le}`, `_sum`, `_count`), so its names, HELP and TYPE lines come from
// prom-client; only the values are replaced.
import { Histogram, type LabelValues, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client';

export interface HistogramSnapshot<T extends string> {
  labels: LabelValues<T>;
  /** Upper bounds, the last one Infinity. */
  le: number[];
  /** Cumulative counts, one per bound. */
  cumulative: number[];
  sum: number;
  count: number;
}

export interface SnapshotHistogramOptions<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  /** The bounds the snapshots use (documentation: prom-client wants them; the snapshots carry their own). */
  buckets: readonly number[];
  registers: Registry[];
  read: () => Promise<HistogramSnapshot<T>[]>;
}

/** The fields prom-client sets on every metric but leaves out of its class typings. */
interface MetricFields {
  name: string;
  help: string;
  type: string;
  aggregator: string;
}

export class SnapshotHistogram<T extends string> extends Histogram<T> {
  private readonly read: () => Promise<HistogramSnapshot<T>[]>;

  constructor(options: SnapshotHistogramOptions<T>) {
    super({ name: options.name, help: options.help, labelNames: options.labelNames, buckets: [...options.buckets], registers: options.registers });
    this.read = options.read;
  }

  /** What the registry renders (it prefers this over get()). */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const { name, help, type, aggregator } = this as unknown as MetricFields;
    const values: MetricValueWithName<string>[] = [];
    for (const s of await this.read()) {
      s.le.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: le === Infinity ? '+Inf' : le }, value: s.cumulative[i] ?? 0 }));
      values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
    }
    return { name, help, type, values, aggregator } as unknown as MetricObjectWithValues<MetricValueWithName<T>>;
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    return this.getForPromString();
  }
}
