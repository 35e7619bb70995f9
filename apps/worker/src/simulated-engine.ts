// The simulated engine: a stand-in for libs/training's trainRun in scale tests of the fleet
// (bench:fleet, the simulated e2e), never for results; the worker refuses it when
// NODE_ENV=production. It keeps the engine's contract as the worker sees it: it reads the
// dataset's class folders, resumes from its checkpoint, reports progress between "batches" and
// one EpochMetrics per epoch (awaited before the next), writes a real checkpoint (the engine's
// file format, atomically) before reporting an epoch, and stops at the next batch once aborted.
// An epoch is a sleep of about epochMs (each run at its own seeded pace). Its metrics are a
// deterministic function of the hyper-parameters and of state carried only in the checkpoint (a
// small "weight" vector and the RNG stream), so an epoch trained after a resume gives exactly the uninterrupted run's numbers
// only if the checkpoint really was written and read back. No TensorFlow.js, nothing CPU-bound:
// hundreds of these run on one event loop.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCheckpoint, writeCheckpoint } from '@fleet/training/checkpoint/checkpoint.js';
import { TRAIN_DEFAULTS, type BatchProgress, type EpochMetrics, type Strategy, type TrainHyperparams } from '@fleet/training/contracts.js';
import { Rng, type RngState } from '@fleet/training/rng.js';

/** Length of the simulated weight vector: the checkpoint's one tensor (1 KiB). */
const STATE_SIZE = 256;
const STATE_TENSOR = 'simulated/w';
/** What a hymenoptera-sized dataset would report (the images are never read). */
const TRAIN_IMAGES = 244;
const VAL_IMAGES = 153;
/** Progress ticks (and cancel checks) per epoch at most. */
const MAX_BATCHES = 10;
/**
 * Each run's epochs take epochMs x a factor in [1 - PACE_SPREAD, 1 + PACE_SPREAD] drawn from its
 * seed: real runs differ in speed and drift apart, while runs of one fixed epoch length would all
 * report their epochs in lockstep (a burst no real fleet produces).
 */
const PACE_SPREAD = 0.25;
/** How fast each strategy approaches its target per unit of lr; freeze-like ones move the head only. */
const SPEED: Record<Strategy, number> = { scratch: 40, finetune: 120, freeze: 80, 'zero-lr': 80, 'group-lr': 100, 'linear-probe': 80 };
const MOVES_BACKBONE: Record<Strategy, boolean> = { scratch: true, finetune: true, freeze: false, 'zero-lr': false, 'group-lr': true, 'linear-probe': false };

export class SimulatedDatasetError extends Error {
  // A name failure-kind.ts classifies as unrecoverable, like the engine's missing dataset.
  override name = 'DatasetNotFoundError';
}

export interface SimulatedStartInfo {
  /** Epochs restored from the checkpoint; training continues with startEpoch + 1. */
  startEpoch: number;
  trainImages: number;
  valImages: number;
}

/** Options of {@link simulatedTrainRun}: the subset of the engine's TrainRunOptions the worker uses. */
export interface SimulatedRunOptions {
  /** ImageFolder root; only its train/<class> folder names are read. */
  datasetDir: string;
  hyper: Pick<TrainHyperparams, 'strategy'> & Partial<TrainHyperparams>;
  checkpointDir: string;
  /** Continue from checkpointDir's checkpoint when there is one. */
  resume: boolean;
  /** Write the checkpoint after the last epoch too, as the engine's option of that name. Default true */
  checkpointFinalEpoch?: boolean | undefined;
  /** Wall time of one epoch. */
  epochMs: number;
  signal?: AbortSignal;
  onStart?(info: SimulatedStartInfo): void | Promise<void>;
  onProgress?(progress: BatchProgress): void;
  /** Awaited before the next epoch starts. */
  onEpoch(metrics: EpochMetrics): void | Promise<void>;
}

/** The epoch metrics without the wall-clock fields (seconds, imagesPerSec). */
export type SimulatedMetrics = Omit<EpochMetrics, 'seconds' | 'imagesPerSec'>;

/**
 * The deterministic part: a weight vector pulled towards a seeded target at a rate set by the
 * strategy and the epoch's StepLR learning rate, plus seeded noise. Only `w` and the RNG stream
 * change from epoch to epoch; both go into the checkpoint.
 */
export class SimulatedModel {
  readonly hyper: TrainHyperparams;
  private readonly rng: Rng;
  private readonly w0: Float32Array;
  private readonly target: Float32Array;
  private w: Float32Array;

  constructor(
    hyper: Pick<TrainHyperparams, 'strategy'> & Partial<TrainHyperparams>,
    readonly numClasses: number,
  ) {
    this.hyper = { ...TRAIN_DEFAULTS, ...hyper };
    this.rng = new Rng(this.hyper.seed);
    const init = this.rng.fork(0);
    this.w0 = Float32Array.from({ length: STATE_SIZE }, () => init.uniform(-1, 1));
    this.target = Float32Array.from({ length: STATE_SIZE }, () => init.uniform(-1, 1));
    this.w = Float32Array.from(this.w0);
  }

  /** Trains epoch `epoch` (1-based) and returns its metrics. Epochs must come in order. */
  trainEpoch(epoch: number): SimulatedMetrics {
    const { strategy, lr, lrFactor, stepSize, gamma } = this.hyper;
    const epochRng = this.rng.fork(epoch);
    const epochLr = lr * gamma ** Math.floor((epoch - 1) / stepSize);
    const rate = 1 - Math.exp(-epochLr * SPEED[strategy]);
    for (let i = 0; i < STATE_SIZE; i++) this.w[i] = this.w[i]! + rate * (this.target[i]! - this.w[i]!) + 0.02 * (epochRng.next() - 0.5);
    let dist = 0;
    let moved = 0;
    let norm0 = 0;
    for (let i = 0; i < STATE_SIZE; i++) {
      dist += (this.w[i]! - this.target[i]!) ** 2;
      moved += (this.w[i]! - this.w0[i]!) ** 2;
      norm0 += this.w0[i]! ** 2;
    }
    dist /= STATE_SIZE;
    const chance = 1 / this.numClasses;
    const skill = Math.exp(-dist);
    const noise = () => 0.02 * (epochRng.next() - 0.5);
    const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
    const backboneDrift = MOVES_BACKBONE[strategy] ? Math.sqrt(moved / norm0) : 0;
    const lrs = strategy === 'group-lr' ? [epochLr * lrFactor, epochLr] : strategy === 'zero-lr' ? [0, epochLr] : [epochLr];
    const headParams = 512 * this.numClasses + this.numClasses;
    return {
      epoch,
      trainLoss: Math.log(this.numClasses) * (0.2 + dist) + noise(),
      trainAcc: clamp01(chance + (1 - chance) * skill + noise()),
      valLoss: Math.log(this.numClasses) * (0.25 + 1.1 * dist) + noise(),
      valAcc: clamp01(chance + (1 - chance) * skill * 0.95 + noise()),
      lrs,
      trainableParams: MOVES_BACKBONE[strategy] ? 11_176_512 + headParams : headParams,
      backboneDrift,
      bnStatsDrift: strategy === 'linear-probe' ? 0 : backboneDrift * 0.5,
    };
  }

  state(): { rngState: RngState; w: Float32Array } {
    return { rngState: this.rng.getState(), w: Float32Array.from(this.w) };
  }

  restore(state: { rngState: RngState; w: Float32Array }): void {
    if (state.w.length !== STATE_SIZE) throw new Error(`simulated checkpoint holds ${state.w.length} weights, expected ${STATE_SIZE}`);
    this.rng.setState(state.rngState);
    this.w = Float32Array.from(state.w);
  }
}

/** What an uninterrupted run stores for epochs 1..epochs (bench and tests check runs against it). */
export function expectedSimulatedMetrics(hyper: SimulatedRunOptions['hyper'], numClasses: number, epochs: number): SimulatedMetrics[] {
  const model = new SimulatedModel(hyper, numClasses);
  return Array.from({ length: epochs }, (_, i) => model.trainEpoch(i + 1));
}

async function classesOf(datasetDir: string): Promise<string[]> {
  const trainDir = path.join(datasetDir, 'train');
  const entries = await readdir(trainDir, { withFileTypes: true }).catch((err: unknown) => {
    throw new SimulatedDatasetError(`${trainDir}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const classes = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (classes.length === 0) throw new SimulatedDatasetError(`${trainDir}: no class folders`);
  return classes;
}

export interface SimulatedRunResult {
  cancelled: boolean;
  startEpoch: number;
}

/** One simulated run, start to finish (or to the abort). */
export async function simulatedTrainRun(options: SimulatedRunOptions): Promise<SimulatedRunResult> {
  const classes = await classesOf(options.datasetDir);
  const model = new SimulatedModel(options.hyper, classes.length);
  const { hyper } = model;
  let startEpoch = 0;
  let history: EpochMetrics[] = [];
  let bestValAcc = 0;
  let bestEpoch = 0;
  if (options.resume) {
    const ckpt = await readCheckpoint(options.checkpointDir);
    const w = ckpt?.tensors.get(STATE_TENSOR);
    if (ckpt && w) {
      const { epochs: _e, ...want } = hyper;
      const { epochs: _c, ...have } = ckpt.meta.hyper;
      const differs = (Object.keys(want) as (keyof typeof want)[]).filter((k) => want[k] !== have[k]);
      if (differs.length > 0) throw Object.assign(new Error(`checkpoint in ${options.checkpointDir} was made with different settings (${differs.join(', ')})`), { name: 'TrainConfigError' });
      model.restore({ rngState: ckpt.meta.rngState, w: w.data });
      ({ epoch: startEpoch, history, bestValAcc, bestEpoch } = ckpt.meta);
    }
  }
  await options.onStart?.({ startEpoch, trainImages: TRAIN_IMAGES, valImages: VAL_IMAGES });
  const aborted = () => options.signal?.aborted === true;
  const batches = Math.max(1, Math.min(MAX_BATCHES, Math.floor(options.epochMs / 20)));
  // Its own stream: the pace never touches the metrics' RNG.
  const epochMs = options.epochMs * new Rng(hyper.seed ^ 0x9e3779b9).uniform(1 - PACE_SPREAD, 1 + PACE_SPREAD);
  for (let epoch = startEpoch + 1; epoch <= hyper.epochs; epoch++) {
    const started = performance.now();
    for (let batch = 1; batch <= batches; batch++) {
      if (aborted()) return { cancelled: true, startEpoch };
      await sleep(epochMs / batches);
      options.onProgress?.({ epoch, phase: 'train', batch, batches, loss: 1 / (epoch + batch / batches) });
    }
    if (aborted()) return { cancelled: true, startEpoch };
    const seconds = (performance.now() - started) / 1000;
    const metrics: EpochMetrics = { ...model.trainEpoch(epoch), seconds, imagesPerSec: seconds > 0 ? TRAIN_IMAGES / seconds : 0 };
    history.push(metrics);
    if (metrics.valAcc > bestValAcc || bestEpoch === 0) {
      bestValAcc = metrics.valAcc;
      bestEpoch = epoch;
    }
    if (epoch < hyper.epochs || options.checkpointFinalEpoch !== false) {
      const { rngState, w } = model.state();
      await writeCheckpoint(options.checkpointDir, {
        meta: { version: 1, hyper, classes, epoch, rngState, bestValAcc, bestEpoch, history, numBatchesTracked: {} },
        tensors: new Map([[STATE_TENSOR, { shape: [STATE_SIZE], data: w }]]),
      });
    }
    await options.onEpoch(metrics);
  }
  return { cancelled: false, startEpoch };
}
