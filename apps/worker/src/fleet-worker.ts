// One worker process: registers itself, trains train-experiment jobs through its training
// children, listens for cancels, heartbeats, and on stop hands its running jobs back to the queue.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MetricsTime, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { ArtifactStore } from '@fleet/artifacts';
import type { FleetConfig } from '@fleet/config';
import { ExperimentRunRepository, PrismaService, SweepSearchRepository, WorkerRepository, type WorkerRegistration } from '@fleet/persistence';
import { createRedisConnection, JobName, QueueName, recordEpochStats, type RedisConnection, type TrainJobResult } from '@fleet/queue';
import { timed, type RecordTiming } from './call-timings.js';
import { CancelListener } from './cancel.listener.js';
import { ExperimentEventPublisher } from './experiment-event.publisher.js';
import { Heartbeat } from './heartbeat.js';
import { MetricsServer } from './metrics-server.js';
import { SimulatedTrainingHost } from './simulated-training.host.js';
import { TrainExperimentProcessor } from './train-experiment.processor.js';
import { TrainingChildHost, type HostBackend, type TrainingHost } from './training-child.host.js';
import type { WorkerOptions } from './worker-options.js';
import { WorkerMetrics } from './worker-metrics.js';

export interface FleetWorkerOptions extends WorkerOptions {
  config: FleetConfig;
  /** Compiled training child. Default: training-child.js next to this file. */
  childPath?: string;
  /** The store of config.artifactStore, checked at boot by the caller. Default: none (ARTIFACTS_DIR is shared) */
  store?: ArtifactStore;
  log?: (line: string) => void;
  /**
   * Told the duration of the Postgres and Redis calls of each run (bench:fleet's profile of an
   * epoch report: 'epoch.store', 'epoch.search', 'event.publish', 'cancel.check', 'run.start'),
   * and, on a one-slot worker, each first attempt's queue hand-out: the job enqueued or this worker
   * free, whichever was later -> BullMQ handed it over ('handout.first' for the worker's first job,
   * the sweep landing on an idle fleet; 'handout' for the others). Default: nothing is timed.
   */
  record?: RecordTiming;
}

/**
 * Times a job may stall (its worker died or froze while holding it) before BullMQ fails it. A stall
 * is never the job's fault here (training runs in a child process; a crashed child is an ordinary
 * failed attempt) and the run resumes from its checkpoint, so a few crashed workers in a row must
 * not fail it. BullMQ's default of 1 failed a run on its second crashed worker and, because the
 * stall checker fails it without the processor, left its experiment "running" for good.
 */
const MAX_STALLS = 5;

export class FleetWorker {
  readonly id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly log: (line: string) => void;
  private readonly prisma: PrismaService;
  private readonly redis: RedisConnection;
  private readonly children: TrainingHost[];
  private readonly processor: TrainExperimentProcessor;
  private readonly cancels: CancelListener;
  private heartbeat: Heartbeat | undefined;
  private bullWorker: Worker<unknown, TrainJobResult> | undefined;
  private workers: WorkerRepository;
  private readonly runs: ExperimentRunRepository;
  private readonly events: ExperimentEventPublisher;
  private stopping: Promise<void> | undefined;
  readonly metrics: WorkerMetrics;
  private metricsServer: MetricsServer | undefined;
  private epochStatsFailing = false;
  /** Since when this worker has had its slot free (taking jobs, or its last job's end): the queue hand-out's start. */
  private freeSince = 0;
  private jobsTaken = 0;

  constructor(private readonly options: FleetWorkerOptions) {
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    const { config } = options;
    // A worker runs at most one database call per running job, plus its heartbeat: a pool of
    // concurrency + 1 connections never makes a call wait, and a fleet of N workers holds N x that.
    this.prisma = new PrismaService(config.databaseUrl, { poolMax: config.databasePoolMax ?? options.concurrency + 1 });
    this.redis = createRedisConnection(config.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', () => undefined); // ioredis reconnects by itself; commands report their own errors.
    this.workers = new WorkerRepository(this.prisma);
    this.children = Array.from({ length: options.concurrency }, () => this.createHost());
    const record = options.record;
    const time = <T extends object>(target: T, names: Partial<Record<keyof T & string, string>>): T => (record ? timed(target, names, record) : target);
    this.runs = new ExperimentRunRepository(this.prisma);
    this.events = new ExperimentEventPublisher(this.redis, config.queuePrefix, this.log);
    this.processor = new TrainExperimentProcessor({
      config,
      workerId: this.id,
      runs: time(this.runs, { recordEpoch: 'epoch.store', markRunning: 'run.start' }),
      searches: time(new SweepSearchRepository(this.prisma), { reportEpoch: 'epoch.search' }),
      events: time(this.events, { publish: 'event.publish' }),
      redis: time(this.redis, { exists: 'cancel.check' }),
      children: this.children,
      ...(options.store ? { store: options.store } : {}),
      log: this.log,
      onRunningChanged: () => void this.heartbeat?.beat(),
      onEpochStored: ({ backend, strategy, metrics }) => this.recordEpochStats(backend, strategy, metrics.seconds, metrics.imagesPerSec),
    });
    this.metrics = new WorkerMetrics({ id: this.id, host: os.hostname(), gpu: options.gpu, slots: options.concurrency });
    this.cancels = new CancelListener(config.redisUrl, config.queuePrefix, (experimentId) => {
      if (this.processor.cancel(experimentId)) this.log(`cancel: stopping experiment ${experimentId} at the next batch`);
    });
  }

  private createHost(): TrainingHost {
    const { options } = this;
    if (options.engine === 'simulated') return new SimulatedTrainingHost({ epochMs: options.simulated.epochMs, record: options.record });
    const env = { ...process.env, FLEET_THREADS: String(options.threads), ...(options.gpu === undefined ? {} : { CUDA_VISIBLE_DEVICES: String(options.gpu) }) };
    const childPath = options.childPath ?? fileURLToPath(new URL('./training-child.js', import.meta.url));
    return new TrainingChildHost({ childPath, backend: options.backend, env, recycle: options.childRecycle, log: this.log });
  }

  /** Starts the training children, registers the worker and starts taking jobs. */
  async start(): Promise<HostBackend> {
    // First: a taken metrics port fails the start before any training process exists.
    if (this.options.metricsPort !== undefined) {
      this.metricsServer = new MetricsServer(this.metrics.registry, this.options.config.metricsToken, this.log);
      const port = await this.metricsServer.listen(this.options.metricsPort);
      this.log(`metrics on http://0.0.0.0:${port}/metrics${this.options.config.metricsToken ? ' (bearer token required)' : ''}`);
    }
    const backends = await Promise.all(this.children.map((c) => c.start()));
    const backend = backends[0] as HostBackend;
    const self: WorkerRegistration = { id: this.id, host: os.hostname(), pid: process.pid, gpu: this.options.gpu, backend: backend.name, backendInfo: backend.info };
    this.metrics.setBackend(backend);
    await this.workers.register(self);
    this.metrics.heartbeatWritten();
    this.heartbeat = new Heartbeat(this.workers, self, () => this.processor.runningExperimentIds()[0] ?? null, this.options.heartbeatMs, this.log, () => this.metrics.heartbeatWritten());
    this.heartbeat.start();
    await this.cancels.start();

    const { config } = this.options;
    const worker = new Worker<unknown, TrainJobResult>(QueueName.Train, (job: Job<unknown, TrainJobResult>, token?: string) => this.processJob(job, token), {
      connection: createRedisConnection(config.redisUrl, { maxRetriesPerRequest: null }),
      prefix: config.queuePrefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: MAX_STALLS,
      // BullMQ's own completed/failed counts per minute (Queue.getMetrics): the API's fleet_queue_jobs_*_total.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      autorun: false,
    });
    worker.on('error', (err) => this.log(`queue error: ${err.message}`));
    worker.on('stalled', (jobId) => this.log(`job ${jobId} stalled (its worker stopped renewing the lock); it goes back to the queue`));
    worker.on('failed', (job, err) => void this.onJobFailed(job, err));
    this.bullWorker = worker;
    this.freeSince = Date.now();
    void worker.run().catch((err: unknown) => this.log(`queue worker stopped: ${err instanceof Error ? err.message : String(err)}`));
    await worker.waitUntilReady();
    return backend;
  }

  get trainingChildPids(): number[] {
    return this.children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
  }

  /**
   * BullMQ fails some jobs without calling our processor: a job that stalled more than
   * maxStalledCount times is failed by whichever worker picks it up next. Its experiment must not
   * stay `running` forever. Final failures only (retries leave the run queued); a run the processor
   * already marked failed is not touched again (the transition is from queued/running only).
   */
  private async onJobFailed(job: Job<unknown, TrainJobResult> | undefined, err: Error): Promise<void> {
    if (!job?.id) return;
    const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    try {
      if (await this.runs.markFailed(job.id, err.message)) {
        this.log(`experiment ${job.id} failed outside training: ${err.message}`);
        await this.events.publish({ type: 'status', experimentId: job.id, status: 'failed', error: err.message, at: new Date().toISOString() });
      }
    } catch (writeError) {
      this.log(`could not record the failure of ${job.id}: ${writeError instanceof Error ? writeError.message : String(writeError)}`);
    }
  }

  private async processJob(job: Job<unknown, TrainJobResult>, token?: string): Promise<TrainJobResult> {
    if (job.name !== JobName.TrainExperiment) {
      throw new UnrecoverableError(`unknown job name "${job.name}" on queue ${QueueName.Train}`);
    }
    this.recordHandout(job);
    const ended = this.metrics.jobStarted();
    try {
      const result = await this.processor.process(job, token);
      ended(result.cancelled ? 'cancelled' : result.stopped ? 'stopped' : 'completed');
      return result;
    } catch (err) {
      ended(err instanceof WaitingError ? 'handed_back' : 'failed');
      throw err;
    } finally {
      this.freeSince = Date.now();
    }
  }

  private recordHandout(job: Job<unknown, TrainJobResult>): void {
    const first = this.jobsTaken++ === 0;
    const { record } = this.options;
    if (!record || this.options.concurrency !== 1 || job.attemptsMade > 0 || job.attemptsStarted > 1) return;
    record(first ? 'handout.first' : 'handout', (job.processedOn ?? Date.now()) - Math.max(job.timestamp, this.freeSince));
  }

  /** Adds a stored epoch to the fleet-wide histograms in Redis; a failure is logged once per outage, never fails the run. */
  private recordEpochStats(backend: string, strategy: string, seconds: number, imagesPerSec: number): void {
    recordEpochStats(this.redis, this.options.config.queuePrefix, { backend, strategy, seconds, imagesPerSec }).then(
      () => {
        this.epochStatsFailing = false;
      },
      (err: unknown) => {
        if (!this.epochStatsFailing) this.log(`epoch metrics not recorded (will keep trying with the next epochs): ${err instanceof Error ? err.message : String(err)}`);
        this.epochStatsFailing = true;
      },
    );
  }

  /**
   * Graceful stop: take no new jobs, stop running trainings at the next batch boundary and hand
   * their jobs back to the queue, then close everything and remove the Worker row.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const closing = this.bullWorker?.close();
    this.processor.shutdown();
    await closing;
    this.log('queue closed; stopping training processes');
    await this.cancels.stop();
    await Promise.all(this.children.map((c) => c.stop()));
    await this.heartbeat?.stop();
    await this.workers.remove(this.id).catch((err: unknown) => this.log(`could not remove worker row: ${err instanceof Error ? err.message : String(err)}`));
    await this.redis.quit().catch(() => undefined);
    await this.prisma.$disconnect();
    await this.metricsServer?.close();
    this.log(`worker ${this.id} stopped`);
  }
}
