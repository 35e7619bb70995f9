// The training host of `--engine simulated`: runs simulated-engine.ts in the worker process itself
// (it only sleeps, so the event loop and BullMQ's lock renewal stay free) where TrainingChildHost
// would fork a training child. It keeps that host's contract, so the processor, checkpoints,
// resume, cancel, heartbeats and epoch storage are the real worker's code: each epoch is awaited
// until stored before the next; on resume the checkpoint's epochs are replayed first; a failed
// store cancels the run, which then fails with that error; an engine error fails the run with the
// same retryable/unrecoverable classification as the child's.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { epochsToReplay } from './checkpoint-replay.js';
import type { RecordTiming } from './call-timings.js';
import { classifyFailure } from './failure-kind.js';
import { simulatedTrainRun } from './simulated-engine.js';
import { TrainingRunError, type HostBackend, type RunHandlers, type RunOutcome, type TrainingHost } from './training-child.host.js';
import type { RunSpec } from './training-ipc.js';

export interface SimulatedTrainingHostOptions {
  /** Wall time of one simulated epoch. */
  epochMs: number;
  /** Told how long each epoch report (onEpoch, i.e. storing and publishing it) took, as 'epoch.report'. */
  record?: RecordTiming;
}

export class SimulatedTrainingHost implements TrainingHost {
  private current: AbortController | undefined;
  private runs = 0;

  constructor(private readonly options: SimulatedTrainingHostOptions) {}

  /** No training process: the engine runs in the worker's own. */
  get pid(): number | undefined {
    return undefined;
  }

  get jobsDone(): number {
    return this.runs;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  start(): Promise<HostBackend> {
    return Promise.resolve({ name: 'simulated', info: `simulated engine, ${this.options.epochMs} ms epochs (scale tests only)` });
  }

  async run(spec: RunSpec, handlers: RunHandlers): Promise<RunOutcome & { runId: string }> {
    if (this.current) throw new Error('training host is busy');
    const runId = randomUUID();
    const controller = new AbortController();
    this.current = controller;
    let storeError: Error | undefined;
    const report = async (metrics: EpochMetrics): Promise<void> => {
      if (controller.signal.aborted) return;
      const started = performance.now();
      try {
        await handlers.onEpoch(metrics);
      } catch (err) {
        // As with the training child: never train on past an epoch that could not be stored.
        storeError = err instanceof Error ? err : new Error(String(err));
        controller.abort();
      } finally {
        this.options.record?.('epoch.report', performance.now() - started);
      }
    };
    try {
      const result = await simulatedTrainRun({
        datasetDir: spec.datasetDir,
        hyper: spec.hyper,
        checkpointDir: spec.checkpointDir,
        resume: spec.resume,
        checkpointFinalEpoch: spec.checkpointFinalEpoch,
        epochMs: this.options.epochMs,
        signal: controller.signal,
        onStart: async (info) => {
          handlers.onStarted?.(info);
          for (const metrics of await epochsToReplay(spec.checkpointDir, info.startEpoch)) await report(metrics);
        },
        onProgress: (progress) => handlers.onProgress?.(progress),
        onEpoch: report,
      });
      if (storeError) throw storeError;
      return { status: result.cancelled || controller.signal.aborted ? 'cancelled' : 'completed', runId };
    } catch (err) {
      if (storeError) throw storeError;
      if (controller.signal.aborted) return { status: 'cancelled', runId };
      throw new TrainingRunError(classifyFailure(err));
    } finally {
      this.current = undefined;
      this.runs += 1;
    }
  }

  cancel(): void {
    this.current?.abort();
  }

  recycle(): Promise<void> {
    return Promise.resolve();
  }

  /** Aborts a running simulation (the processor has already handed its job back or cancelled it). */
  stop(): Promise<void> {
    this.current?.abort();
    return Promise.resolve();
  }
}
