// The training child process: forked by the worker, owns the TensorFlow.js backend and the
// engine's cache (decoded datasets and loaded weights survive from one job to the next), and runs
// one trainRun at a time. It exists because tfjs compute is synchronous: on the worker's own event
// loop it would stop BullMQ's lock renewal and the job would be declared stalled and run twice.
// It must never outlive the worker: it exits when the IPC channel closes or its parent changes.
import { EngineCache, engineMemory, initBackend, trainRun, type BackendPreference, type TrainStartInfo } from '@fleet/training';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { epochsToReplay } from './checkpoint-replay.js';
import { classifyFailure } from './failure-kind.js';
import { isParentMessage, type ChildMemory, type ChildMessage, type ParentMessage, type RunSpec } from './training-ipc.js';

const PARENT_CHECK_MS = 1000;

function send(message: ChildMessage): void {
  // A closed channel means the parent is gone (killed): end quietly, there is no one to train for.
  if (!process.connected) process.exit(0);
  process.send?.(message, undefined, {}, (err: Error | null) => {
    if (err) process.exit(0);
  });
}

function parseBackend(argv: string[]): BackendPreference {
  const i = argv.indexOf('--backend');
  return (i >= 0 ? argv[i + 1] : undefined) as BackendPreference | undefined ?? 'auto';
}

interface ActiveRun {
  runId: string;
  controller: AbortController;
  /** Resolvers of epoch acknowledgements the engine is waiting on, by epoch. */
  acks: Map<number, () => void>;
}

let active: ActiveRun | undefined;
let backendPreference: BackendPreference = 'auto';
const cache = new EngineCache();

/** Sends one epoch and resolves when the parent has stored it (or the run is aborted). */
function reportEpoch(current: ActiveRun, metrics: EpochMetrics): Promise<void> {
  return new Promise<void>((resolve) => {
    if (current.controller.signal.aborted) return resolve();
    current.acks.set(metrics.epoch, resolve);
    current.controller.signal.addEventListener('abort', () => resolve(), { once: true });
    send({ type: 'epoch', runId: current.runId, metrics });
  });
}

/** Reports the epochs the checkpoint holds (see checkpoint-replay.ts) before training goes on. */
async function replayCheckpointHistory(current: ActiveRun, dir: string, info: TrainStartInfo): Promise<void> {
  for (const metrics of await epochsToReplay(dir, info.startEpoch)) await reportEpoch(current, metrics);
}

/** Measured once trainRun has returned or thrown: its model and optimizer are disposed by then. */
function memoryNow(): ChildMemory | undefined {
  try {
    const { numTensors, numBytes, wasmHeapBytes, rssBytes } = engineMemory();
    return { numTensors, numBytes, wasmHeapBytes, rssBytes };
  } catch {
    return undefined;
  }
}

async function run(runId: string, spec: RunSpec): Promise<void> {
  const current: ActiveRun = { runId, controller: new AbortController(), acks: new Map() };
  active = current;
  try {
    const result = await trainRun({
      datasetDir: spec.datasetDir,
      weightsPath: spec.weightsPath,
      hyper: spec.hyper,
      checkpointDir: spec.checkpointDir,
      resume: spec.resume,
      checkpointFinalEpoch: spec.checkpointFinalEpoch,
      modelDir: spec.modelDir,
      backend: backendPreference,
      signal: current.controller.signal,
      cache,
      onStart: async (info) => {
        send({ type: 'started', runId, startEpoch: info.startEpoch, trainImages: info.trainImages, valImages: info.valImages });
        await replayCheckpointHistory(current, spec.checkpointDir, info);
      },
      onProgress: (progress) => send({ type: 'progress', runId, progress }),
      // The engine awaits this before the next epoch: the epoch is in Postgres before training goes on.
      onEpoch: (metrics) => reportEpoch(current, metrics),
    });
    send({ type: 'done', runId, cancelled: result.cancelled === true || current.controller.signal.aborted, memory: memoryNow() });
  } catch (err) {
    if (current.controller.signal.aborted) {
      send({ type: 'done', runId, cancelled: true, memory: memoryNow() });
    } else {
      send({ type: 'failed', runId, error: classifyFailure(err), memory: memoryNow() });
    }
  } finally {
    if (active === current) active = undefined;
  }
}

function onMessage(message: ParentMessage): void {
  switch (message.type) {
    case 'run':
      if (active) {
        send({ type: 'failed', runId: message.runId, error: { name: 'BusyError', message: `training child is busy with run ${active.runId}`, kind: 'retryable' } });
        return;
      }
      void run(message.runId, message.spec);
      return;
    case 'cancel':
      if (active?.runId === message.runId) active.controller.abort();
      return;
    case 'epoch-ack': {
      if (active?.runId !== message.runId) return;
      const resolve = active.acks.get(message.epoch);
      active.acks.delete(message.epoch);
      resolve?.();
      return;
    }
    case 'shutdown':
      active?.controller.abort();
      process.exit(0);
  }
}

async function main(): Promise<void> {
  const parentPid = process.ppid;
  process.on('disconnect', () => process.exit(0));
  // Belt and braces for a parent killed with SIGKILL while the channel close is not yet seen.
  setInterval(() => {
    if (process.ppid !== parentPid) process.exit(0);
  }, PARENT_CHECK_MS).unref();
  process.on('message', (raw: unknown) => {
    if (isParentMessage(raw)) onMessage(raw);
  });
  // The parent handles SIGINT/SIGTERM (a terminal's Ctrl-C reaches the whole group): the child
  // must stay up until the parent has cancelled the run and told it to shut down.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);

  try {
    backendPreference = parseBackend(process.argv);
    const backend = await initBackend(backendPreference);
    send({ type: 'ready', backend, pid: process.pid });
  } catch (err) {
    send({ type: 'fatal', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}

void main();
