// The typed protocol between a worker and its long-lived training child process (IPC over
// child_process.fork). The parent sends run/cancel/epoch-ack/shutdown; the child answers with
// ready once its backend is up, then started/progress/epoch/done/failed per run. Every run-scoped
// message carries the runId so a late message of an earlier run can never be mistaken for the
// current one. Pure types: importing this file must not load TensorFlow.js.
import type { BackendInfo, BatchProgress, EpochMetrics, TrainHyperparams } from '@fleet/training/contracts.js';

/** What the child needs to call the engine's trainRun (callbacks, signal and cache are its own). */
export interface RunSpec {
  datasetDir: string;
  weightsPath?: string | undefined;
  hyper: TrainHyperparams;
  checkpointDir: string;
  /** Continue from checkpointDir's checkpoint when there is one (the engine starts fresh otherwise). */
  resume: boolean;
  /** Write the checkpoint after the last epoch too (the engine's TrainRunOptions.checkpointFinalEpoch). Default true */
  checkpointFinalEpoch?: boolean | undefined;
  /** Keep the run's best and final models here (the engine's TrainRunOptions.modelDir). */
  modelDir?: string | undefined;
}

export type ParentMessage =
  | { type: 'run'; runId: string; spec: RunSpec }
  | { type: 'cancel'; runId: string }
  /** The parent stored the epoch (or gave up): the engine may go on with the next epoch. */
  | { type: 'epoch-ack'; runId: string; epoch: number }
  | { type: 'shutdown' };

/** Why a run failed, as far as retrying is concerned. */
export type FailureKind = 'unrecoverable' | 'retryable';

export interface RunFailure {
  name: string;
  message: string;
  kind: FailureKind;
}

/** What the training process holds after a run (the engine's EngineMemory, without the import). */
export interface ChildMemory {
  /** tensors still alive: 0 between jobs unless something leaks */
  numTensors: number;
  numBytes: number;
  /** 0 on backends other than wasm */
  wasmHeapBytes: number;
  rssBytes: number;
}

export type ChildMessage =
  | { type: 'ready'; backend: BackendInfo; pid: number }
  /** The backend could not be initialised: the child exits after sending it. */
  | { type: 'fatal'; error: string }
  /** startEpoch > 0: resumed from a checkpoint after that epoch. */
  | { type: 'started'; runId: string; startEpoch: number; trainImages: number; valImages: number }
  | { type: 'progress'; runId: string; progress: BatchProgress }
  | { type: 'epoch'; runId: string; metrics: EpochMetrics }
  /** memory: measured after the engine released the run, so the worker can recycle between jobs. */
  | { type: 'done'; runId: string; cancelled: boolean; memory?: ChildMemory }
  | { type: 'failed'; runId: string; error: RunFailure; memory?: ChildMemory };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Narrows an IPC payload to a ChildMessage by its type tag (the other side is our own code). */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (!isObject(value) || typeof value.type !== 'string') return false;
  return ['ready', 'fatal', 'started', 'progress', 'epoch', 'done', 'failed'].includes(value.type);
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (!isObject(value) || typeof value.type !== 'string') return false;
  return ['run', 'cancel', 'epoch-ack', 'shutdown'].includes(value.type);
}
