// The API's Prometheus registry: the fleet-wide series (queue, runs, workers, epochs), read from a
// FleetState snapshot at scrape time, plus this process's HTTP latency and Node's default metrics.
// Built from a plain read function so its series can be listed without Redis or Postgres (the
// Grafana dashboard test checks every query against them). Series names: README "Metrics".
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EPOCH_SECONDS_BUCKETS, IMAGES_PER_SECOND_BUCKETS, type EpochHistogramName } from '@fleet/queue';
import type { FleetState } from './fleet-state.reader.js';
import { SnapshotHistogram, type HistogramSnapshot } from './snapshot-histogram.js';

/** Seconds; from a 2 ms health check to a 10 s model download. */
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HttpObservation {
  method: string;
  /** The route's template (`/api/experiments/:id`), never the raw path: bounded cardinality. */
  route: string;
  statusCode: number;
  seconds: number;
}

export interface ApiMetricsRegistry {
  registry: Registry;
  observeHttp(o: HttpObservation): void;
}

export function createApiRegistry(read: () => Promise<FleetState>): ApiMetricsRegistry {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: 'fleet_queue_jobs',
    help: 'BullMQ jobs per queue and state (waiting|prioritized|delayed is the backlog)',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      const { queues } = await read();
      this.reset();
      for (const q of queues ?? []) for (const [state, n] of Object.entries(q.jobs)) this.set({ queue: q.queue, state }, n);
    },
  });
  new Counter({
    name: 'fleet_queue_jobs_completed_total',
    help: "Jobs completed, from BullMQ's queue metrics (Worker option metrics)",
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      const { queues } = await read();
      this.reset();
      for (const q of queues ?? []) this.inc({ queue: q.queue }, q.completedTotal);
    },
  });
  new Counter({
    name: 'fleet_queue_jobs_failed_total',
    help: "Jobs failed for good (retries exhausted or unrecoverable), from BullMQ's queue metrics",
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      const { queues } = await read();
      this.reset();
      for (const q of queues ?? []) this.inc({ queue: q.queue }, q.failedTotal);
    },
  });
  new Gauge({
    name: 'fleet_runs',
    help: 'Experiments (runs) per status, from Postgres',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const { runs } = await read();
      this.reset();
      for (const [status, n] of Object.entries(runs ?? {})) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'fleet_workers_alive',
    help: 'Workers whose heartbeat is within the live window (as GET /api/workers lists them)',
    registers,
    async collect() {
      const { workersAlive } = await read();
      this.reset();
      if (workersAlive !== undefined) this.set(workersAlive);
    },
  });
  new Gauge({
    name: 'fleet_worker_heartbeat_age_seconds',
    help: "Seconds since each worker's last heartbeat (workers seen in the last 10 live windows)",
    labelNames: ['worker', 'host', 'backend'] as const,
    registers,
    async collect() {
      const { heartbeats } = await read();
      this.reset();
      for (const h of heartbeats ?? []) this.set({ worker: h.worker, host: h.host, backend: h.backend }, h.ageSeconds);
    },
  });
  const epochSeries = (histogram: EpochHistogramName) => async (): Promise<HistogramSnapshot<'backend' | 'strategy'>[]> =>
    ((await read()).epochs ?? []).filter((s) => s.histogram === histogram).map((s) => ({ labels: { backend: s.backend, strategy: s.strategy }, le: s.le, cumulative: s.cumulative, sum: s.sum, count: s.count }));
  new SnapshotHistogram({
    name: 'fleet_epoch_duration_seconds',
    help: 'Wall time of each finished epoch (train + val), fleet-wide, by backend and strategy',
    labelNames: ['backend', 'strategy'] as const,
    buckets: EPOCH_SECONDS_BUCKETS,
    registers,
    read: epochSeries('duration'),
  });
  new SnapshotHistogram({
    name: 'fleet_epoch_images_per_second',
    help: "Train images per second of each finished epoch's train phase, fleet-wide, by backend and strategy",
    labelNames: ['backend', 'strategy'] as const,
    buckets: IMAGES_PER_SECOND_BUCKETS,
    registers,
    read: epochSeries('images'),
  });
  new Gauge({
    name: 'fleet_metrics_source_up',
    help: 'Whether the last read of a source for these metrics succeeded (1) or not (0, its series are missing)',
    labelNames: ['source'] as const,
    registers,
    async collect() {
      const { up } = await read();
      this.set({ source: 'redis' }, up.redis ? 1 : 0);
      this.set({ source: 'postgres' }, up.postgres ? 1 : 0);
    },
  });
  const http = new Histogram({
    name: 'fleet_http_request_duration_seconds',
    help: 'HTTP request latency of this API process by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    observeHttp: (o) => http.observe({ method: o.method, route: o.route, status_code: String(o.statusCode) }, o.seconds),
  };
}

/**
 * The series names a registry exposes, as PromQL sees them: histograms as `_bucket`, `_sum` and
 * `_count`, summaries as the name plus `_sum` and `_count`.
 */
export function exposedSeriesNames(registry: Registry): string[] {
  return registry.getMetricsAsArray().flatMap((m) => {
    const { name, type } = m as unknown as { name: string; type: string };
    if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    if (type === 'summary') return [name, `${name}_sum`, `${name}_count`];
    return [name];
  });
}
