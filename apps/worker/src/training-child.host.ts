// Parent side of one training child process: forks it, waits for its backend, runs one training
// at a time through it and restarts it when it dies. A child that dies mid-run fails that run with
// ChildCrashedError (retryable) instead of hanging the job. After a run, a child that reached its
// job count or memory limit (child-recycle.ts) is replaced in the background: the finished job
// does not wait for it and the next one finds a fresh child starting or ready.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { BackendInfo, BatchProgress, EpochMetrics } from '@fleet/training/contracts.js';
import { describeMemory, recycleReason, type ChildRecycleOptions } from './child-recycle.js';
import { isChildMessage, type ChildMemory, type ChildMessage, type ParentMessage, type RunFailure, type RunSpec } from './training-ipc.js';

export interface TrainingChildHostOptions {
  /** Path of the compiled training-child.js. */
  childPath: string;
  /** Backend preference handed to the engine's initBackend. Default 'auto'. */
  backend?: string;
  /** Environment of the child. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long the child may take to initialise its backend. Default 120000 ms. */
  readyTimeoutMs?: number;
  /** When to replace the child between jobs. Default: never (the worker passes its options). */
  recycle?: ChildRecycleOptions;
  log?: (line: string) => void;
}

export interface RunHandlers {
  /** The engine loaded everything; startEpoch > 0 when it resumed from a checkpoint. */
  onStarted?(info: { startEpoch: number; trainImages: number; valImages: number }): void;
  onProgress?(progress: BatchProgress): void;
  /** Awaited before the child is told to go on with the next epoch. */
  onEpoch(metrics: EpochMetrics): Promise<void>;
}

export type RunOutcome = { status: 'completed' } | { status: 'cancelled' };

/** What a worker reports as the backend of its runs (the engine's BackendInfo, or 'simulated'). */
export interface HostBackend {
  name: string;
  info?: string | undefined;
  /** webgpu only: the adapter (BackendInfo.adapter), shown in the worker's metrics. */
  adapter?: { name: string } | undefined;
}

/**
 * Where a worker's runs train, one run at a time: a training child process (TrainingChildHost), or
 * the simulated engine of scale tests (SimulatedTrainingHost). The processor sees only this.
 */
export interface TrainingHost {
  /** Pid of the training process, when there is one. */
  readonly pid: number | undefined;
  /** Runs done since the last restart (the next one finds caches warm when > 0). */
  readonly jobsDone: number;
  readonly busy: boolean;
  start(): Promise<HostBackend>;
  /** Resolves when the run finished or was cancelled; onEpoch is awaited before the next epoch. */
  run(spec: RunSpec, handlers: RunHandlers): Promise<RunOutcome & { runId: string }>;
  /** Stops the current run at the next batch boundary. */
  cancel(): void;
  /** After an engine failure: the next run starts on a fresh engine. */
  recycle(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export class TrainingRunError extends Error {
  override name = 'TrainingRunError';
  constructor(readonly failure: RunFailure) {
    super(failure.message);
  }
}

export class ChildCrashedError extends Error {
  override name = 'ChildCrashedError';
}

interface PendingRun {
  runId: string;
  /** The process running it: only its exit fails the run (an old child may exit after a replacement). */
  child: ChildProcess;
  /** Reported by the child with its outcome. */
  memory?: ChildMemory;
  handlers: RunHandlers;
  resolve(outcome: RunOutcome): void;
  reject(err: Error): void;
  /** Set when storing an epoch failed: the run is being cancelled and then fails with it. */
  error?: Error;
}

export class TrainingChildHost implements TrainingHost {
  private child: ChildProcess | undefined;
  private backendInfo: BackendInfo | undefined;
  private starting: Promise<BackendInfo> | undefined;
  private pending: PendingRun | undefined;
  private stopping = false;
  /** Runs finished by the current child. */
  private jobsOnChild = 0;
  /** Set while a replaced child shuts down; the next spawn waits for it (never two at once). */
  private retiring: Promise<void> | undefined;
  /** Children shut down on purpose: their exit is not news. */
  private readonly retired = new WeakSet<ChildProcess>();

  constructor(private readonly options: TrainingChildHostOptions) {}

  /** Pid of the current child, when one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get backend(): BackendInfo | undefined {
    return this.backendInfo;
  }

  /** Runs the current child process has finished (job 2+ find its cache warm); 0 for a fresh one. */
  get jobsDone(): number {
    return this.child ? this.jobsOnChild : 0;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Forks the child (if not running) and resolves once its backend is ready. */
  start(): Promise<BackendInfo> {
    if (this.child && this.backendInfo) return Promise.resolve(this.backendInfo);
    this.starting ??= (async () => {
      await this.retiring;
      if (this.stopping) throw new Error('the worker is stopping: no new training process');
      return this.spawn();
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<BackendInfo> {
    const log = this.options.log ?? (() => undefined);
    return new Promise<BackendInfo>((resolve, reject) => {
      const child = fork(this.options.childPath, ['--backend', this.options.backend ?? 'auto'], {
        env: this.options.env ?? process.env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      this.child = child;
      this.jobsOnChild = 0;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`training child did not initialise its backend within ${this.options.readyTimeoutMs ?? 120_000} ms`));
      }, this.options.readyTimeoutMs ?? 120_000);
      let ready = false;
      child.on('message', (raw: unknown) => {
        if (!isChildMessage(raw)) return;
        if (raw.type === 'ready') {
          ready = true;
          clearTimeout(timer);
          this.backendInfo = raw.backend;
          resolve(raw.backend);
        } else if (raw.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`training child could not start: ${raw.error}`));
        } else {
          this.onRunMessage(raw);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) {
          this.child = undefined;
          this.backendInfo = undefined;
        }
        if (!ready) reject(new Error(`training child exited before it was ready (${signal ?? `code ${code}`})`));
        const pending = this.pending;
        if (pending?.child === child) {
          this.pending = undefined;
          pending.reject(new ChildCrashedError(`training process ${child.pid} died during the run (${signal ?? `exit code ${code}`})`));
        }
        if (!this.stopping && !this.retired.has(child)) log(`training child ${child.pid} exited (${signal ?? `code ${code}`}); a new one starts with the next job`);
      });
      child.on('error', (err) => log(`training child error: ${err.message}`));
    });
  }

  /** Runs one training in the child; resolves when it finished or was cancelled. */
  async run(spec: RunSpec, handlers: RunHandlers): Promise<RunOutcome & { runId: string }> {
    if (this.pending) throw new Error('training child is busy');
    await this.start();
    const child = this.child;
    if (!child) throw new ChildCrashedError('training process exited before the run could start');
    const runId = randomUUID();
    let settle!: Pick<PendingRun, 'resolve' | 'reject'>;
    const outcome = new Promise<RunOutcome>((resolve, reject) => (settle = { resolve, reject }));
    const entry: PendingRun = { runId, child, handlers, ...settle };
    this.pending = entry;
    this.post({ type: 'run', runId, spec });
    try {
      return { ...(await outcome), runId };
    } finally {
      this.afterRun(child, entry.memory);
    }
  }

  /** Counts the finished run and replaces the child, in the background, when it reached a limit. */
  private afterRun(child: ChildProcess, memory: ChildMemory | undefined): void {
    if (this.child !== child) return; // it died during the run; the next start() forks a new one
    this.jobsOnChild += 1;
    const log = this.options.log ?? (() => undefined);
    if (memory && memory.numTensors > 0) log(`training child ${child.pid} holds ${memory.numTensors} tensors between jobs (${describeMemory(memory)}): a leak`);
    const reason = this.options.recycle && recycleReason(this.options.recycle, this.jobsOnChild, memory);
    if (!reason || this.stopping) return;
    log(`replacing training child ${child.pid} between jobs: ${reason}${memory ? `; ${describeMemory(memory)}` : ''}`);
    this.retire();
    // Start the replacement now, so the next job does not pay for the backend's start-up.
    this.start().catch((err: unknown) => log(`replacement training child did not start (the next job tries again): ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Detaches the current child at once (no new run can reach it) and shuts it down. */
  private retire(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.backendInfo = undefined;
    this.retired.add(child);
    const previous = this.retiring;
    const done = Promise.all([previous, this.terminateChild(child, 5000)]).then(() => undefined);
    this.retiring = done;
    void done.finally(() => {
      if (this.retiring === done) this.retiring = undefined;
    });
  }

  /** Asks the child to stop the current run at the next batch boundary. */
  cancel(): void {
    if (this.pending) this.post({ type: 'cancel', runId: this.pending.runId });
  }

  /**
   * Replaces the child with a fresh one at the next run: after an engine failure its state (e.g. an
   * aborted WebAssembly heap) cannot be trusted for the next job. A child that has not run a job yet
   * (the replacement the limits already started after that run) is kept.
   */
  async recycle(): Promise<void> {
    if (this.jobsOnChild > 0) this.retire();
    await this.retiring;
  }

  /** Stops the child for good: a polite shutdown message, SIGKILL if it is still there after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    await Promise.all([this.retiring, this.child && this.terminateChild(this.child, graceMs)]);
  }

  private async terminateChild(child: ChildProcess, graceMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'shutdown' } satisfies ParentMessage);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private post(message: ParentMessage): void {
    if (this.child?.connected) this.child.send(message);
  }

  private onRunMessage(message: Exclude<ChildMessage, { type: 'ready' } | { type: 'fatal' }>): void {
    const pending = this.pending;
    if (!pending || pending.runId !== message.runId) return;
    switch (message.type) {
      case 'started':
        pending.handlers.onStarted?.({ startEpoch: message.startEpoch, trainImages: message.trainImages, valImages: message.valImages });
        return;
      case 'progress':
        pending.handlers.onProgress?.(message.progress);
        return;
      case 'epoch': {
        const { epoch } = message.metrics;
        pending.handlers.onEpoch(message.metrics).then(
          () => this.post({ type: 'epoch-ack', runId: message.runId, epoch }),
          (err: unknown) => {
            // The epoch could not be stored: stop the run rather than train on without it. The
            // run stays pending until the child confirms it stopped, so the child is free again.
            pending.error = err instanceof Error ? err : new Error(String(err));
            this.post({ type: 'cancel', runId: message.runId });
          },
        );
        return;
      }
      case 'done':
        this.pending = undefined;
        pending.memory = message.memory;
        if (pending.error) return pending.reject(pending.error);
        pending.resolve(message.cancelled ? { status: 'cancelled' } : { status: 'completed' });
        return;
      case 'failed':
        this.pending = undefined;
        pending.memory = message.memory;
        pending.reject(pending.error ?? new TrainingRunError(message.error));
        return;
    }
  }
}
