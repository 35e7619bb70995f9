// What the fleet-wide gauges of /metrics show, read at scrape time: BullMQ's job counts and
// completed/failed totals, runs by status, the workers' heartbeats and the epoch histograms the
// workers keep in Redis. One snapshot serves every gauge of a scrape and is reused for
// metricsCacheMs (ApiOptions), so several Prometheus servers (or a fast scrape interval) cost
// Postgres and Redis one read per interval. A source that fails is left out of the snapshot (its
// series disappear, fleet_metrics_source_up says which) instead of failing the whole scrape.
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobType } from 'bullmq';
import { ExperimentRepository, WorkerRepository, type ExperimentStatus } from '@fleet/persistence';
import { QueueName, epochStatsKey, parseEpochStats, type EpochHistogramSeries, type RedisConnection } from '@fleet/queue';
import { API_OPTIONS, FLEET_CONFIG, type ApiOptions, type FleetConfig } from '../api-options.js';
import { QueueService } from '../queue/queue.service.js';
import { REDIS } from '../redis/redis.provider.js';

/** The job states of fleet_queue_jobs (KEDA's queue-depth query reads waiting|prioritized|delayed). */
export const QUEUE_JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'paused', 'waiting-children'] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/** The states BullMQ 6 counts; it has no list of paused jobs (see pausedAware). */
const BULLMQ_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'waiting-children'] as const satisfies readonly JobType[];

/**
 * BullMQ >= 5 keeps the jobs of a paused queue in its wait and prioritized lists and only flags the
 * queue. They cannot run, so they are reported as `paused` and not as backlog: a paused queue must
 * not make an autoscaler add workers.
 */
export function pausedAware(counts: Record<string, number | undefined>, paused: boolean): Record<QueueJobState, number> {
  const get = (s: string): number => counts[s] ?? 0;
  const jobs = Object.fromEntries(QUEUE_JOB_STATES.map((s) => [s, get(s)])) as Record<QueueJobState, number>;
  if (paused) {
    jobs.paused = get('waiting') + get('prioritized');
    jobs.waiting = 0;
    jobs.prioritized = 0;
  } else jobs.paused = 0;
  return jobs;
}

/** A worker row seen within this many live windows still gets a heartbeat-age series (then it is dropped). */
const HEARTBEAT_AGE_WINDOWS = 10;

/** A source not read within this long is reported down: well inside Prometheus's default 10 s scrape timeout. */
const READ_TIMEOUT_MS = 3000;

export interface QueueState {
  queue: string;
  jobs: Record<QueueJobState, number>;
  /** BullMQ's own metrics (Worker option `metrics`): jobs finished since the queue's metrics began. */
  completedTotal: number;
  failedTotal: number;
}

export interface WorkerHeartbeat {
  worker: string;
  host: string;
  backend: string;
  ageSeconds: number;
}

export interface FleetState {
  /** Undefined when Redis did not answer. */
  queues?: QueueState[];
  epochs?: EpochHistogramSeries[];
  /** Undefined when Postgres did not answer. */
  runs?: Record<ExperimentStatus, number>;
  /** Workers with a heartbeat within HEARTBEAT_AGE_WINDOWS live windows. */
  heartbeats?: WorkerHeartbeat[];
  /** Of those, the ones within the live window (as GET /api/workers counts them). */
  workersAlive?: number;
  up: { redis: boolean; postgres: boolean };
}

@Injectable()
export class FleetStateReader {
  private readonly logger = new Logger('Metrics');
  private cached: { at: number; state: Promise<FleetState> } | undefined;

  constructor(
    private readonly queues: QueueService,
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly experiments: ExperimentRepository,
    private readonly workers: WorkerRepository,
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
  ) {}

  /** The current snapshot: a read in flight or younger than metricsCacheMs is shared. */
  snapshot(): Promise<FleetState> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.options.metricsCacheMs) this.cached = { at: now, state: this.read() };
    return this.cached.state;
  }

  private async read(): Promise<FleetState> {
    const [redisPart, postgresPart] = await Promise.all([this.guard('Redis', () => this.readRedis()), this.guard('Postgres', () => this.readPostgres())]);
    return { ...redisPart, ...postgresPart, up: { redis: redisPart !== undefined, postgres: postgresPart !== undefined } };
  }

  private async readRedis(): Promise<Pick<FleetState, 'queues' | 'epochs'>> {
    const queue = this.queues.queue;
    const [counts, paused, completed, failed, epochHash] = await Promise.all([
      queue.getJobCounts(...BULLMQ_STATES),
      queue.isPaused(),
      queue.getMetrics('completed', 0, 0),
      queue.getMetrics('failed', 0, 0),
      this.redis.hgetall(epochStatsKey(this.config.queuePrefix)),
    ]);
    return {
      queues: [{ queue: QueueName.Train, jobs: pausedAware(counts, paused), completedTotal: completed.meta.count, failedTotal: failed.meta.count }],
      epochs: parseEpochStats(epochHash),
    };
  }

  private async readPostgres(): Promise<Pick<FleetState, 'runs' | 'heartbeats' | 'workersAlive'>> {
    const liveMs = this.options.workerLiveMs;
    const [runs, rows] = await Promise.all([this.experiments.countByStatus(), this.workers.listActive(liveMs * HEARTBEAT_AGE_WINDOWS)]);
    const now = Date.now();
    const heartbeats = rows.map((w) => ({ worker: w.id, host: w.host, backend: w.backend, ageSeconds: Math.max(0, (now - w.lastSeenAt.getTime()) / 1000) }));
    return { runs, heartbeats, workersAlive: heartbeats.filter((h) => h.ageSeconds * 1000 <= liveMs).length };
  }

  /** Each source answers within the scrape or is reported down; the queue's own calls wait for Redis forever. */
  private async guard<T>(source: string, read: () => Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS)));
    const work = read();
    work.catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } catch (err) {
      this.logger.warn(`metrics: ${source} not read: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
