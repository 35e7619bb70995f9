// The BullMQ processor of train-experiment jobs. Thin on purpose: validate the payload, move the
// experiment through its states, hand the training to a child process and store what it reports.
// Each epoch is in Postgres (upsert, retried until it lands) and on the event stream before the
// child may start the next one, so a crash at any point loses at most the epoch in progress,
// which the next attempt re-runs from the last checkpoint. With an artifact store (ARTIFACTS_URL),
// the run's folder is restored from it before training and published to it after each epoch,
// before the epoch is stored, so any machine resumes where the run left off and a succeeded run's
// models are in the store.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { fetchRunFiles, type ArtifactStore } from '@fleet/artifacts';
import type { FleetConfig } from '@fleet/config';
import type { StopReason as EarlyStopReason } from '@fleet/contracts';
import type { ExperimentRunRepository, SweepSearchRepository } from '@fleet/persistence';
import { cancelledKey, InvalidTrainJobError, parseTrainJobData, type ExperimentStatusName, type RedisConnection, type TrainJobData, type TrainJobResult } from '@fleet/queue';
import type { BatchProgress, EpochMetrics } from '@fleet/training/contracts.js';
import { CHECKPOINT_FILE } from '@fleet/training/checkpoint/checkpoint.js';
import { findRunModel, modelFileNames } from '@fleet/training/model-files/model-files.js';
import type { ExperimentEventPublisher } from './experiment-event.publisher.js';
import { faultPoint } from './fault-point.js';
import { isTransientDbError, retryUntilDone } from './retry.js';
import { RunArtifactSync } from './run-artifact-sync.js';
import { ChildCrashedError, TrainingRunError, type TrainingHost } from './training-child.host.js';

export interface TrainExperimentProcessorOptions {
  config: Pick<FleetConfig, 'dataRoot' | 'weightsRoot' | 'artifactsDir' | 'queuePrefix'>;
  workerId: string;
  runs: ExperimentRunRepository;
  /** Early stopping of searched sweeps: told of every stored epoch, answers whether to stop. */
  searches: Pick<SweepSearchRepository, 'reportEpoch'>;
  events: ExperimentEventPublisher;
  /** Connection for plain commands (the cancelled-key check). */
  redis: RedisConnection;
  /** One training host (child process or simulated engine) per concurrent job. */
  children: TrainingHost[];
  /** Shared store of run folders (ARTIFACTS_URL); without one, ARTIFACTS_DIR itself is shared. Default none */
  store?: ArtifactStore;
  /** Minimum gap between two progress events of one experiment. Default 250 ms. */
  progressIntervalMs?: number;
  /** Called when the set of running experiments changes (the heartbeat reports it at once). */
  onRunningChanged?: () => void;
  /** Called after each epoch is stored (the fleet-wide epoch metrics); must not throw. */
  onEpochStored?: (epoch: { backend: string; strategy: string; metrics: EpochMetrics }) => void;
  log?: (line: string) => void;
}

type StopReason = 'cancel' | 'shutdown' | 'early-stop';

interface RunningJob {
  child: TrainingHost;
  stop?: StopReason;
  /** Set with stop 'early-stop': the rung decision that stopped the run's trial. */
  earlyStop?: EarlyStopReason;
}

const PROBE_FILE = '.write-probe';

export class TrainExperimentProcessor {
  private readonly running = new Map<string, RunningJob>();
  private readonly reserved = new Set<TrainingHost>();
  private shuttingDown = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: TrainExperimentProcessorOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** Experiments this worker is training right now. */
  runningExperimentIds(): string[] {
    return [...this.running.keys()];
  }

  /** Stops the experiment's training at the next batch boundary, if this worker runs it. */
  cancel(experimentId: string): boolean {
    return this.stop(experimentId, 'cancel');
  }

  /** Hands every running job back to the queue (used on SIGTERM/SIGINT). */
  shutdown(): void {
    this.shuttingDown = true;
    for (const id of this.running.keys()) this.stop(id, 'shutdown');
  }

  private stop(experimentId: string, reason: StopReason): boolean {
    const job = this.running.get(experimentId);
    if (!job) return false;
    job.stop ??= reason;
    job.child.cancel();
    return true;
  }

  async process(job: Job<unknown, TrainJobResult>, token?: string): Promise<TrainJobResult> {
    const pickedUpAt = performance.now();
    const { runs, events, config } = this.options;
    const data = await this.parse(job);
    const { experimentId } = data;
    const idle: TrainJobResult = { experimentId, epochsDone: 0, bestValAcc: null, bestEpoch: null, finalValAcc: null };

    if ((await this.options.redis.exists(cancelledKey(config.queuePrefix, experimentId))) === 1) {
      if (await runs.markCancelled(experimentId)) await this.status(experimentId, 'cancelled');
      this.log(`job ${job.id}: experiment ${experimentId} was cancelled before it started; skipped`);
      return { ...idle, cancelled: true };
    }

    const checkpointDir = path.join(config.artifactsDir, experimentId);
    await this.prepareCheckpointDir(experimentId, checkpointDir);
    const weightsPath = await this.weightsPath(job, data);

    const child = this.acquireChild();
    const backend = await child.start().catch(async (err: unknown) => {
      this.reserved.delete(child);
      // A training process that cannot start fails the attempt like a crash does (retried, then failed).
      throw await this.failed(job, experimentId, err);
    });
    const started = await runs.markRunning(experimentId, { workerId: this.options.workerId, backend: backend.name, backendInfo: backend.info });
    if (!started) {
      this.reserved.delete(child);
      const status = await runs.getStatus(experimentId);
      if (status === undefined) throw new UnrecoverableError(`experiment ${experimentId} does not exist`);
      this.log(`job ${job.id}: experiment ${experimentId} is already ${status}; nothing to do`);
      return { ...idle, cancelled: status === 'cancelled' };
    }
    await this.status(experimentId, 'running', { backend: backend.name });

    const entry: RunningJob = { child };
    const sync = this.options.store ? new RunArtifactSync(this.options.store, experimentId, checkpointDir, this.log) : undefined;
    this.running.set(experimentId, entry);
    this.options.onRunningChanged?.();
    if (this.shuttingDown) entry.stop = 'shutdown';
    // A cancel published between the first check and now reached no running entry: the key did.
    if ((await this.options.redis.exists(cancelledKey(config.queuePrefix, experimentId)).catch(() => 0)) === 1) entry.stop ??= 'cancel';
    let summary = idle;
    let lastProgressAt = 0;
    let firstBatchLogged = false;
    let resumedAfter = 0;
    // Set once the last epoch is stored: the run's record is then complete, and the experiment is
    // succeeded without waiting for the engine's clean-up (nothing after it can change the result).
    let succeeded = false;
    const succeed = async (): Promise<void> => {
      if (succeeded) return;
      succeeded = true;
      if (await retryUntilDone(() => runs.markSucceeded(experimentId), { shouldRetry: isTransientDbError })) await this.status(experimentId, 'succeeded');
    };
    try {
      // The checkpoint this run resumes from may have been written on another machine.
      if (sync && !entry.stop) await sync.restore();
      const outcome = entry.stop
        ? { status: 'cancelled' as const }
        : await child.run(
            // resume: an earlier attempt (crashed or stopped worker) may have left a checkpoint.
            // No checkpoint after the last epoch: a succeeded run's is deleted (removeCheckpoint),
            // and a crash before the run is marked succeeded retrains that epoch from the one before.
            { datasetDir: path.join(config.dataRoot, data.config.dataset), weightsPath, hyper: hyperOf(data), checkpointDir, resume: true, checkpointFinalEpoch: false, modelDir: checkpointDir },
            {
              onStarted: ({ startEpoch }) => {
                resumedAfter = startEpoch;
                if (startEpoch > 0) this.log(`job ${job.id}: experiment ${experimentId} resumed from checkpoint after epoch ${startEpoch}`);
              },
              onProgress: (progress: BatchProgress) => {
                if (!firstBatchLogged) {
                  firstBatchLogged = true;
                  this.log(`job ${job.id}: pickup to first batch ${Math.round(performance.now() - pickedUpAt)} ms (training child ${child.pid}, job ${child.jobsDone + 1} of this child${resumedAfter > 0 ? `, resumed after epoch ${resumedAfter}` : ''})`);
                }
                const now = performance.now();
                if (now - lastProgressAt < (this.options.progressIntervalMs ?? 250)) return;
                lastProgressAt = now;
                void events.publish({ type: 'progress', experimentId, ...progress });
              },
              onEpoch: async (metrics: EpochMetrics) => {
                // In the store before in Postgres: a stored last epoch implies published models.
                await sync?.publish(metrics.epoch);
                const { searched, ...stored } = await this.recordEpoch(experimentId, metrics);
                summary = { experimentId, ...stored };
                this.options.onEpochStored?.({ backend: backend.name, strategy: data.config.strategy, metrics });
                if (metrics.epoch >= data.config.epochs) return succeed();
                // A cancel published while this worker's subscriber was reconnecting is still seen here.
                if ((await this.options.redis.exists(cancelledKey(config.queuePrefix, experimentId)).catch(() => 0)) === 1) this.stop(experimentId, 'cancel');
                // Early stopping judges the epoch just stored; a stop ends the run before the next batch.
                // Only a searched sweep's cells have rungs: the others skip the query.
                if (!searched) return;
                const earlyStop = await retryUntilDone(() => this.options.searches.reportEpoch(experimentId, metrics.epoch), { shouldRetry: isTransientDbError });
                if (earlyStop && !entry.stop) {
                  entry.earlyStop = earlyStop;
                  this.stop(experimentId, 'early-stop');
                  this.log(`job ${job.id}: experiment ${experimentId} stopped early at rung ${earlyStop.rung} (${earlyStop.value} vs cutoff ${earlyStop.cutoff} over ${earlyStop.compared})`);
                }
              },
            },
          );
      // A stopped run's child may end while its last epoch is still being published.
      await sync?.settled();
      if (outcome.status === 'completed' || succeeded) {
        await succeed();
        await this.removeCheckpoint(checkpointDir, sync, summary.epochsDone);
        this.log(`job ${job.id}: experiment ${experimentId} succeeded (best val acc ${summary.bestValAcc ?? 'n/a'} at epoch ${summary.bestEpoch ?? 'n/a'})`);
        return summary;
      }
      if (entry.stop === 'shutdown') {
        await retryUntilDone(() => runs.markRequeued(experimentId, 'worker shut down; resumes from the last checkpoint'));
        await this.status(experimentId, 'queued');
        this.log(`job ${job.id}: experiment ${experimentId} handed back to the queue (worker shutting down)`);
        // Back to waiting without counting a failed attempt; another worker resumes from the checkpoint.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (entry.stop === 'early-stop' && entry.earlyStop) {
        const reason = entry.earlyStop;
        await retryUntilDone(() => runs.markStopped(experimentId, reason), { shouldRetry: isTransientDbError });
        await this.status(experimentId, 'stopped');
        return { ...summary, stopped: reason };
      }
      await retryUntilDone(() => runs.markCancelled(experimentId));
      await this.status(experimentId, 'cancelled');
      this.log(`job ${job.id}: experiment ${experimentId} cancelled after ${summary.epochsDone} epoch(s)`);
      return { ...summary, cancelled: true };
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      // Never two writers of one run: the next attempt (maybe elsewhere) starts after this one's publish.
      await sync?.settled();
      if (succeeded) {
        this.log(`job ${job.id}: clean-up after the last epoch failed (the experiment is complete): ${err instanceof Error ? err.message : String(err)}`);
        return summary;
      }
      if (err instanceof TrainingRunError && err.failure.kind === 'retryable') {
        this.log(`job ${job.id}: restarting training process ${child.pid ?? ''} after an engine failure`);
        await child.recycle();
      }
      throw await this.failed(job, experimentId, err);
    } finally {
      this.running.delete(experimentId);
      this.reserved.delete(child);
      this.options.onRunningChanged?.();
    }
  }

  /** Validates the payload; an invalid one fails the job for good (and its experiment, if named). */
  private async parse(job: Job<unknown, TrainJobResult>): Promise<TrainJobData> {
    try {
      return parseTrainJobData(job.data);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const raw = job.data as { experimentId?: unknown } | null;
      const id = typeof raw?.experimentId === 'string' ? raw.experimentId : undefined;
      if (err instanceof InvalidTrainJobError && id && !err.errors.some((e) => e.field === 'experimentId')) {
        if (await this.options.runs.markFailed(id, message)) await this.status(id, 'failed', { error: message });
      }
      this.log(`job ${job.id}: ${message}`);
      throw new UnrecoverableError(message);
    }
  }

  /**
   * Creates the experiment's checkpoint folder and proves it is writable before any training
   * (an unwritable ARTIFACTS_DIR would otherwise fail only after the first epoch's training).
   */
  private async prepareCheckpointDir(experimentId: string, dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
      const probe = path.join(dir, PROBE_FILE);
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (err) {
      const message = `ARTIFACTS_DIR is not writable: cannot create checkpoint folder ${dir}: ${err instanceof Error ? err.message : String(err)}`;
      if (await this.options.runs.markFailed(experimentId, message)) await this.status(experimentId, 'failed', { error: message });
      this.log(`experiment ${experimentId} failed: ${message}`);
      throw new UnrecoverableError(message);
    }
  }

  /**
   * The starting weights' file: a name under WEIGHTS_ROOT, or a chained run's parent model, looked
   * up where the API found it (findRunModel). The API checked the parent at submit time; should its
   * model have gone since (ARTIFACTS_DIR/<parent> removed), the run fails now, for good (no retry
   * can bring the file back), with a reason that says so.
   */
  private async weightsPath(job: Job<unknown, TrainJobResult>, data: TrainJobData): Promise<string | undefined> {
    const { weights } = data.config;
    if (weights === undefined) return undefined;
    if (typeof weights === 'string') return path.join(this.options.config.weightsRoot, weights);
    // With a store, the parent may have trained elsewhere: copy its model into this machine's cache first.
    const { store } = this.options;
    if (store) await fetchRunFiles(store, weights.experiment, path.join(this.options.config.artifactsDir, weights.experiment), modelFileNames(weights.epoch));
    const stored = await findRunModel(this.options.config.artifactsDir, weights.experiment, weights.epoch);
    if (stored) return stored.file;
    const message = `weights.experiment: the ${weights.epoch} model of parent run ${weights.experiment} is gone from ARTIFACTS_DIR (removed after this run was submitted); submit the run again from another parent`;
    throw await this.failed(job, data.experimentId, new UnrecoverableError(message));
  }

  /**
   * A succeeded run never resumes (a re-delivered job finds it succeeded and does nothing), so its
   * checkpoint (weights and momentum, about twice a model file) only costs disk; the model files
   * stay. With a store, the checkpoint leaves the store too (a publish without it).
   */
  private async removeCheckpoint(dir: string, sync: RunArtifactSync | undefined, epoch: number): Promise<void> {
    try {
      await rm(path.join(dir, CHECKPOINT_FILE), { force: true });
      await sync?.publish(epoch);
    } catch (err) {
      this.log(`could not remove the checkpoint of ${dir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private acquireChild(): TrainingHost {
    const child = this.options.children.find((c) => !this.reserved.has(c) && !c.busy);
    if (!child) throw new Error('no free training child (concurrency exceeds the number of training processes)');
    this.reserved.add(child);
    return child;
  }

  private async recordEpoch(experimentId: string, metrics: EpochMetrics) {
    const stored = await retryUntilDone(() => this.options.runs.recordEpoch(experimentId, metrics), {
      shouldRetry: isTransientDbError,
      onRetry: (attempt, err) => this.log(`storing epoch ${metrics.epoch} of ${experimentId} failed (attempt ${attempt}), retrying: ${err instanceof Error ? err.message : String(err)}`),
    });
    // Fault tests stop here: the epoch is committed but the training child not yet told to go on.
    faultPoint('metrics', metrics.epoch);
    await this.options.events.publish({ type: 'epoch', experimentId, metrics });
    return stored;
  }

  /** Records a failed attempt; returns the error BullMQ should see (UnrecoverableError = no retry). */
  private async failed(job: Job<unknown, TrainJobResult>, experimentId: string, err: unknown): Promise<Error> {
    const message = err instanceof Error ? err.message : String(err);
    const unrecoverable = err instanceof UnrecoverableError || (err instanceof TrainingRunError && err.failure.kind === 'unrecoverable');
    const attempts = job.opts.attempts ?? 1;
    const last = unrecoverable || job.attemptsMade + 1 >= attempts;
    const reason = err instanceof ChildCrashedError ? `training process crashed: ${message}` : message;
    if (last) {
      await retryUntilDone(() => this.options.runs.markFailed(experimentId, reason));
      await this.status(experimentId, 'failed', { error: reason });
    } else {
      await retryUntilDone(() => this.options.runs.markRequeued(experimentId, `attempt ${job.attemptsMade + 1} of ${attempts} failed, retrying: ${reason}`));
      await this.status(experimentId, 'queued', { error: reason });
    }
    this.log(`job ${job.id}: experiment ${experimentId} ${last ? 'failed' : 'will be retried'}: ${reason}`);
    if (unrecoverable) return err instanceof UnrecoverableError ? err : new UnrecoverableError(reason);
    return err instanceof Error ? err : new Error(reason);
  }

  private status(experimentId: string, status: ExperimentStatusName, extra: { backend?: string; error?: string } = {}): Promise<void> {
    return this.options.events.publish({ type: 'status', experimentId, status, workerId: this.options.workerId, ...extra, at: new Date().toISOString() });
  }
}

function hyperOf(data: TrainJobData) {
  const { dataset: _dataset, weights: _weights, ...hyper } = data.config;
  return hyper;
}
