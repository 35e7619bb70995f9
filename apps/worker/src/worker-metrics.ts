// This worker process's Prometheus series: what it is (backend, device, webgpu adapter), how busy
// it is (busy seconds per slot, for utilisation), how its jobs ended and when it last reached the
// database. Every series carries a `worker` label with the worker id (the Worker table's), so
// Grafana can show one line per worker whatever instance label Prometheus gives the target.
// The fleet-wide series (queue depth, runs, epochs) are the API's; see README "Metrics".
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { HostBackend } from './training-child.host.js';

/** How a job this worker took ended (per attempt: a failed attempt that BullMQ retries counts as failed). */
export const JOB_OUTCOMES = ['completed', 'failed', 'cancelled', 'stopped', 'handed_back'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export interface WorkerIdentity {
  id: string;
  host: string;
  gpu: number | undefined;
  /** Jobs trained at once (training processes). */
  slots: number;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly info: Gauge<'backend' | 'device' | 'adapter' | 'gpu' | 'host'>;
  private readonly jobs: Counter<'outcome'>;
  private readonly lastHeartbeat: Gauge;
  /** Start (ms, performance clock) of each job running now. */
  private readonly running = new Set<{ start: number }>();
  /** Busy seconds of the jobs that have ended. */
  private busyEnded = 0;

  constructor(private readonly identity: WorkerIdentity) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker: identity.id });
    this.info = new Gauge({
      name: 'fleet_worker_info',
      help: 'Always 1: the backend this worker trains on, its device (build or adapter description), the webgpu adapter name, GPU index and host',
      labelNames: ['backend', 'device', 'adapter', 'gpu', 'host'] as const,
      registers,
    });
    new Gauge({ name: 'fleet_worker_slots', help: 'Jobs this worker can train at once (--concurrency)', registers }).set(identity.slots);
    const running = this.running;
    new Gauge({
      name: 'fleet_worker_busy_slots',
      help: 'Jobs this worker is training now',
      registers,
      collect() {
        this.set(running.size);
      },
    });
    const busySeconds = (): number => this.busySeconds();
    new Counter({
      name: 'fleet_worker_busy_seconds_total',
      help: 'Seconds spent training jobs, summed over slots (utilisation = rate / fleet_worker_slots); includes the jobs running now',
      registers,
      collect() {
        this.reset();
        this.inc(busySeconds());
      },
    });
    this.jobs = new Counter({ name: 'fleet_worker_jobs_total', help: 'Jobs (attempts) this worker took, by how they ended', labelNames: ['outcome'] as const, registers });
    for (const outcome of JOB_OUTCOMES) this.jobs.inc({ outcome }, 0);
    this.lastHeartbeat = new Gauge({ name: 'fleet_worker_last_heartbeat_timestamp_seconds', help: 'Unix time of the last heartbeat this worker wrote to the Worker table', registers });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Set once the training processes are up and the backend is known. */
  setBackend(backend: HostBackend): void {
    this.info.reset();
    this.info.set(
      {
        backend: backend.name,
        device: backend.info ?? '',
        adapter: backend.name === 'webgpu' ? (backend.adapter?.name ?? '') : '',
        gpu: this.identity.gpu === undefined ? '' : String(this.identity.gpu),
        host: this.identity.host,
      },
      1,
    );
  }

  /** Marks a job as started; call the returned function with its outcome when it ends. */
  jobStarted(): (outcome: JobOutcome) => void {
    const entry = { start: performance.now() };
    this.running.add(entry);
    return (outcome) => {
      if (!this.running.delete(entry)) return;
      this.busyEnded += (performance.now() - entry.start) / 1000;
      this.jobs.inc({ outcome });
    };
  }

  heartbeatWritten(at: Date = new Date()): void {
    this.lastHeartbeat.set(at.getTime() / 1000);
  }

  busySeconds(): number {
    const now = performance.now();
    let total = this.busyEnded;
    for (const { start } of this.running) total += (now - start) / 1000;
    return total;
  }
}
