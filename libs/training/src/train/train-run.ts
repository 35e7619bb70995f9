// One training run, start to finish: backend, dataset, weights, strategy, epochs, metrics,
// checkpoints and resume. The worker and the CLI call trainRun; nothing here knows about queues or
// databases. Deterministic: the same seed on the same backend gives identical epoch metrics, and a
// run resumed from the checkpoint of epoch k continues exactly as the uninterrupted run would.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PRETRAINED_STRATEGIES, TRAIN_DEFAULTS, type BackendInfo, type BatchProgress, type EpochMetrics, type TrainHyperparams } from '../contracts.js';
import { initBackend, type BackendPreference } from '../backend/init-backend.js';
import { tf } from '../backend/tf.js';
import { assertNoWebgpuErrors, assertWebgpuStepFits } from '../backend/webgpu-backend.js';
import { readCheckpoint, writeCheckpoint, type CheckpointTensor } from '../checkpoint/checkpoint.js';
import { loadImageFolder, trainTransform, valTransform, type DecodedImage, type ImageFolderDataset, type LabeledImage } from '../data/index.js';
import { FEATURE_DIM } from '../model/resnet18-spec.js';
import { ResNet18 } from '../model/resnet18.js';
import { exportStateDict, modelFromStateDict } from '../model/state-dict-mapping.js';
import { writeModelFiles, writePredictions, type ModelEpoch } from '../model-files/model-files.js';
import { predictionsFromLogits, summarizePredictions, type ValPrediction } from '../model-files/val-predictions.js';
import { Sgd, stepLr } from '../optim/sgd.js';
import { Rng } from '../rng.js';
import { loadStateDict } from '../weights/index.js';
import type { EngineCache } from './engine-cache.js';
import { checkMemoryFits } from './memory-estimate.js';
import { planFor, type StrategyPlan } from './strategy.js';
import { evalLogits, headStep, trainStep, type StepResult } from './train-step.js';

export interface TrainStartInfo {
  backend: BackendInfo;
  hyper: TrainHyperparams;
  classes: string[];
  trainImages: number;
  valImages: number;
  trainableParams: number;
  /** epochs already done (from a checkpoint); training continues with startEpoch + 1 */
  startEpoch: number;
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** ImageFolder root with train/<class>/* and val/<class>/* */
  datasetDir: string;
  /** torchvision resnet18 .pth; required by every strategy except scratch */
  weightsPath?: string;
  /** strategy plus any hyper-parameters to override; the rest come from TRAIN_DEFAULTS */
  hyper: Pick<TrainHyperparams, 'strategy'> & Partial<TrainHyperparams>;
  /** Default 'auto' (tensorflow, then wasm, then cpu) */
  backend?: BackendPreference;
  /** write `latest.ckpt` here after every epoch (atomically). Default: no checkpoints */
  checkpointDir?: string;
  /** continue from checkpointDir's checkpoint when there is one. Default false */
  resume?: boolean;
  /**
   * write the checkpoint after the run's last epoch too. Default true (a finished run can be
   * resumed with more epochs). A caller that deletes the checkpoint once the run succeeds (the
   * worker) passes false: a fine-tuned ResNet18's checkpoint is 90 MB written, fsynced and then
   * removed; a crash after the last epoch then retrains that epoch from the one before, with the
   * same result.
   */
  checkpointFinalEpoch?: boolean;
  /**
   * keep the run's models here (model-best.pth, model-final.pth, classes.json; see model-files),
   * written before the epoch's checkpoint and onEpoch, so a stored last epoch implies both files.
   * Default: none
   */
  modelDir?: string;
  /** honoured between batches; the result then has cancelled: true */
  signal?: AbortSignal;
  onStart?(info: TrainStartInfo): void | Promise<void>;
  /** awaited before the next epoch starts */
  onEpoch?(metrics: EpochMetrics): void | Promise<void>;
  onProgress?(progress: BatchProgress): void;
  /** datasets and state dicts reused across runs of a long-lived process. Default: none */
  cache?: EngineCache;
  /** diagnostic lines (backend chosen, resume). Default: dropped */
  log?(line: string): void;
}

export interface TrainRunResult {
  /** every epoch's metrics, including those restored from a checkpoint */
  epochs: EpochMetrics[];
  /** best val accuracy and the (1-based) epoch that first reached it; 0/0 before any epoch */
  bestValAcc: number;
  bestEpoch: number;
  backend: BackendInfo;
  classes: string[];
  cancelled: boolean;
  /** epochs restored from a checkpoint (0 for a fresh run) */
  resumedFromEpoch: number;
  /** at the end: ||w - w0|| / ||w0|| of the backbone and of the fc head (see EpochMetrics) */
  finalDrift: { backbone: number; head: number };
}

export class TrainConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainConfigError';
  }
}

export function resolveHyper(hyper: TrainRunOptions['hyper']): TrainHyperparams {
  const h: TrainHyperparams = { ...TRAIN_DEFAULTS, ...hyper };
  const positiveInt = ['epochs', 'batchSize', 'imageSize', 'stepSize'] as const;
  for (const k of positiveInt) if (!Number.isInteger(h[k]) || h[k] < 1) throw new TrainConfigError(`${k} must be a positive integer, got ${h[k]}`);
  if (h.imageSize < 32) throw new TrainConfigError(`imageSize must be at least 32, got ${h.imageSize}`);
  if (!Number.isInteger(h.seed) || h.seed < 0) throw new TrainConfigError(`seed must be a non-negative integer, got ${h.seed}`);
  for (const k of ['lr', 'lrFactor', 'momentum', 'weightDecay', 'gamma'] as const) {
    if (!Number.isFinite(h[k]) || h[k] < 0) throw new TrainConfigError(`${k} must be a finite number >= 0, got ${h[k]}`);
  }
  return h;
}

/** Side of ResNet18's last feature map for an input of `size` pixels. */
export function finalFeatureSide(size: number): number {
  let s = Math.floor((size + 6 - 7) / 2) + 1; // conv1
  s = Math.floor((s + 2 - 3) / 2) + 1; // maxpool
  for (let i = 0; i < 3; i++) s = Math.floor((s + 2 - 3) / 2) + 1; // layer2..4 stride 2
  return s;
}

/** Batches of indices in order; a trailing single image is merged when BatchNorm could not take it. */
export function batchIndices(order: number[], batchSize: number, mergeSingleton: boolean): number[][] {
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  if (mergeSingleton && batches.length > 1 && batches[batches.length - 1]!.length === 1) batches[batches.length - 2]!.push(...batches.pop()!);
  return batches;
}

const imagesSize = (size: number) => size * size * 3;

function labelsTensor(items: LabeledImage[], idx: number[]): tf.Tensor1D {
  return tf.tensor1d(idx.map((i) => items[i]!.label), 'int32');
}

function inputBatch(images: DecodedImage[], size: number, transform: (img: DecodedImage, out: Float32Array, offset: number) => void): tf.Tensor4D {
  const per = imagesSize(size);
  const buf = new Float32Array(images.length * per);
  images.forEach((img, j) => transform(img, buf, j * per));
  return tf.tensor4d(buf, [images.length, size, size, 3]);
}

interface Snapshot {
  tensors: tf.Tensor[];
  norm: number;
}

/**
 * tf.addN of scalars. On webgpu one addN shader binds every input as a storage buffer and WebGPU
 * guarantees only 8 per stage (lavapipe allows no more), so there it adds in chunks of 6 plus the
 * running sum. Other backends keep the single addN (bit-identical metrics).
 */
function addScalars(ts: tf.Tensor[]): tf.Tensor {
  if (tf.getBackend() !== 'webgpu' || ts.length <= 7) return tf.addN(ts);
  let acc = tf.addN(ts.slice(0, 7));
  for (let i = 7; i < ts.length; i += 6) acc = tf.addN([acc, ...ts.slice(i, i + 6)]);
  return acc;
}

/** Reads a scalar asynchronously (webgpu cannot read synchronously in Node), then disposes it. */
async function readScalar(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}

async function snapshot(vars: tf.Variable[]): Promise<Snapshot> {
  const tensors = vars.map((v) => tf.clone(v));
  const norm = Math.sqrt(await readScalar(tf.tidy(() => addScalars(tensors.map((t) => tf.sum(tf.square(t)))))));
  return { tensors, norm };
}

async function drift(vars: tf.Variable[], s: Snapshot): Promise<number> {
  if (vars.length === 0 || s.norm === 0) return 0;
  const d = await readScalar(tf.tidy(() => addScalars(vars.map((v, i) => tf.sum(tf.squaredDifference(v, s.tensors[i]!))))));
  return Math.sqrt(d) / s.norm;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const log = options.log ?? (() => {});
  const hyper = resolveHyper(options.hyper);
  const plan = planFor(hyper);
  if (PRETRAINED_STRATEGIES.includes(hyper.strategy) && !options.weightsPath) {
    throw new TrainConfigError(`strategy ${hyper.strategy} starts from pretrained weights: give a weights file (.pth)`);
  }
  if (options.resume && !options.checkpointDir) throw new TrainConfigError('resume needs a checkpoint folder');
  const backend = await initBackend(options.backend ?? 'auto', log);
  checkMemoryFits(backend.name, hyper, plan);

  const dataset: ImageFolderDataset = options.cache ? await options.cache.loadDataset(options.datasetDir) : await loadImageFolder(options.datasetDir);
  if (dataset.train.length === 0) throw new TrainConfigError(`${options.datasetDir}: no training images`);
  if (dataset.val.length === 0) throw new TrainConfigError(`${options.datasetDir}: no validation images`);
  const numClasses = dataset.classes.length;
  assertWebgpuStepFits({ batchSize: hyper.batchSize, imageSize: hyper.imageSize, numClasses });
  const mergeSingleton = !plan.cachedFeatures && finalFeatureSide(hyper.imageSize) === 1;
  if (mergeSingleton && dataset.train.length === 1) {
    throw new TrainConfigError(`one training image at ${hyper.imageSize}px: BatchNorm in train mode needs at least two`);
  }

  // Initial model: deterministic from the seed (and the weights file), also on resume, where it
  // provides the drift baselines before the checkpoint's weights replace it.
  const rng = new Rng(hyper.seed);
  const initRng = rng.fork(0);
  let model: ResNet18;
  if (plan.pretrained) {
    const file = options.weightsPath!;
    const sd = options.cache ? await options.cache.loadStateDict(file) : await loadStateDict(file);
    model = modelFromStateDict(sd, file);
    model.replaceHead(numClasses, initRng);
  } else {
    model = new ResNet18(numClasses);
    model.initScratch(initRng);
  }
  const backboneVars = model.backboneVariables();
  const bnStatVars = model.bnStatVariables();
  const backbone0 = await snapshot(backboneVars);
  const bnStats0 = await snapshot(bnStatVars);
  const head0 = await snapshot(model.headVariables());
  const groups = plan.groups(model);
  const baseLrs = groups.map((g) => g.lr);
  const optimizer = new Sgd(groups, { momentum: hyper.momentum, weightDecay: hyper.weightDecay });
  const trainableParams = groups.reduce((n, g) => n + g.params.reduce((m, p) => m + p.size, 0), 0);

  let startEpoch = 0;
  let history: EpochMetrics[] = [];
  let bestValAcc = 0;
  let bestEpoch = 0;
  const cached: { train?: Float32Array; val?: Float32Array } = {};
  try {
    if (options.resume) {
      const ckpt = await readCheckpoint(options.checkpointDir!);
      if (ckpt) {
        const { epochs: _e, ...want } = hyper;
        const { epochs: _c, ...have } = ckpt.meta.hyper;
        const differs = (Object.keys(want) as (keyof typeof want)[]).filter((k) => want[k] !== have[k]);
        if (differs.length) throw new TrainConfigError(`checkpoint in ${options.checkpointDir} was made with different settings (${differs.map((k) => `${k}: ${have[k]} vs ${want[k]}`).join(', ')})`);
        if (ckpt.meta.classes.join('\0') !== dataset.classes.join('\0')) throw new TrainConfigError(`checkpoint classes [${ckpt.meta.classes.join(', ')}] differ from the dataset's [${dataset.classes.join(', ')}]`);
        restore(model, optimizer, ckpt.tensors, ckpt.meta.numBatchesTracked);
        rng.setState(ckpt.meta.rngState);
        startEpoch = ckpt.meta.epoch;
        history = ckpt.meta.history;
        bestValAcc = ckpt.meta.bestValAcc;
        bestEpoch = ckpt.meta.bestEpoch;
        log(`resuming after epoch ${startEpoch} from ${options.checkpointDir}`);
      }
    }

    await options.onStart?.({ backend, hyper, classes: dataset.classes, trainImages: dataset.train.length, valImages: dataset.val.length, trainableParams, startEpoch });
    let cancelled = false;
    const aborted = () => options.signal?.aborted === true;

    for (let e = startEpoch; e < hyper.epochs && !cancelled; e++) {
      const epochStart = performance.now();
      groups.forEach((g, i) => (g.lr = stepLr(baseLrs[i]!, e, hyper.stepSize, hyper.gamma)));
      const epochRng = rng.fork(e + 1);
      const epochNo = e + 1;
      const progress = (phase: BatchProgress['phase'], batch: number, batches: number, loss: number) => options.onProgress?.({ epoch: epochNo, phase, batch, batches, loss });

      if (plan.cachedFeatures && !cached.train) {
        cached.train = await extractFeatures(model, dataset.train, hyper, (b, n) => progress('features', b, n, 0), aborted);
        cached.val = cached.train && (await extractFeatures(model, dataset.val, hyper, (b, n) => progress('features', b, n, 0), aborted));
        if (!cached.train || !cached.val) {
          cancelled = true;
          break;
        }
      }

      // Train phase.
      const trainStart = performance.now();
      const order = epochRng.permutation(dataset.train.length);
      const batches = batchIndices(order, hyper.batchSize, mergeSingleton);
      let loss = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches.length; b++) {
        if (aborted()) {
          cancelled = true;
          break;
        }
        const idx = batches[b]!;
        const labels = labelsTensor(dataset.train, idx);
        let r: StepResult;
        if (plan.cachedFeatures) {
          const feats = gatherRows(cached.train!, idx);
          r = await headStep(model, optimizer, feats, labels);
          feats.dispose();
        } else {
          const x = inputBatch(
            idx.map((i) => dataset.train[i]!.image),
            hyper.imageSize,
            (img, out, off) => trainTransform(img, hyper.imageSize, epochRng, out, off),
          );
          if (plan.backboneGradients) r = await trainStep(model, optimizer, x, labels);
          else {
            // Backbone in train mode (BN statistics update) but off the gradient tape.
            const feats = model.features(x, 'train');
            r = await headStep(model, optimizer, feats, labels);
            feats.dispose();
          }
          x.dispose();
        }
        labels.dispose();
        loss += r.lossSum;
        correct += r.correct;
        seen += idx.length;
        progress('train', b + 1, batches.length, loss / seen);
        await yieldToEventLoop();
      }
      if (cancelled) break;
      const trainSeconds = (performance.now() - trainStart) / 1000;

      // Val phase.
      const valBatches = batchIndices([...dataset.val.keys()], hyper.batchSize, false);
      let valLoss = 0;
      let valCorrect = 0;
      let valSeen = 0;
      const valPredictions: ValPrediction[] = [];
      for (let b = 0; b < valBatches.length; b++) {
        if (aborted()) {
          cancelled = true;
          break;
        }
        const idx = valBatches[b]!;
        const labels = labelsTensor(dataset.val, idx);
        const logits = tf.tidy(() => {
          if (plan.cachedFeatures) return model.head(gatherRows(cached.val!, idx));
          const x = inputBatch(
            idx.map((i) => dataset.val[i]!.image),
            hyper.imageSize,
            (img, out, off) => valTransform(img, hyper.imageSize, out, off),
          );
          return model.forward(x, 'eval');
        });
        const r = await evalLogits(logits, labels);
        if (options.modelDir) {
          const files = idx.map((i) => path.relative(options.datasetDir, dataset.val[i]!.path));
          valPredictions.push(...predictionsFromLogits(await logits.data(), numClasses, files, idx.map((i) => dataset.val[i]!.label)));
        }
        tf.dispose([logits, labels]);
        valLoss += r.lossSum;
        valCorrect += r.correct;
        valSeen += idx.length;
        progress('val', b + 1, valBatches.length, valLoss / valSeen);
        await yieldToEventLoop();
      }
      if (cancelled) break;

      const lrs = groups.map((g) => g.lr);
      const metrics: EpochMetrics = {
        epoch: epochNo,
        trainLoss: loss / seen,
        trainAcc: correct / seen,
        valLoss: valLoss / valSeen,
        valAcc: valCorrect / valSeen,
        lrs: plan.zeroBackboneGroup ? [0, ...lrs] : lrs,
        seconds: (performance.now() - epochStart) / 1000,
        imagesPerSec: seen / trainSeconds,
        trainableParams,
        backboneDrift: await drift(backboneVars, backbone0),
        bnStatsDrift: await drift(bnStatVars, bnStats0),
      };
      // webgpu: a rejected dispatch leaves wrong numbers, not an exception; fail the run instead
      assertNoWebgpuErrors();
      history.push(metrics);
      if (metrics.valAcc > bestValAcc || bestEpoch === 0) {
        bestValAcc = metrics.valAcc;
        bestEpoch = epochNo;
      }
      if (options.modelDir) {
        const which: ModelEpoch[] = [...(bestEpoch === epochNo ? (['best'] as const) : []), ...(epochNo === hyper.epochs ? (['final'] as const) : [])];
        if (which.length) await writeModelFiles(options.modelDir, which, await exportStateDict(model), dataset.classes);
        if (bestEpoch === epochNo) await writePredictions(options.modelDir, summarizePredictions(valPredictions, dataset.classes, epochNo));
      }
      if (options.checkpointDir && (epochNo < hyper.epochs || options.checkpointFinalEpoch !== false)) {
        await writeCheckpoint(options.checkpointDir, {
          meta: { version: 1, hyper, classes: dataset.classes, epoch: epochNo, rngState: rng.getState(), bestValAcc, bestEpoch, history, numBatchesTracked: Object.fromEntries([...model.bns].map(([k, b]) => [k, b.numBatchesTracked])) },
          tensors: await checkpointTensors(model, optimizer),
        });
      }
      await options.onEpoch?.(metrics);
    }
    const finalDrift = { backbone: await drift(backboneVars, backbone0), head: await drift(model.headVariables(), head0) };
    return { epochs: history, bestValAcc, bestEpoch, backend, classes: dataset.classes, cancelled, resumedFromEpoch: startEpoch, finalDrift };
  } finally {
    optimizer.dispose();
    tf.dispose([...backbone0.tensors, ...bnStats0.tensors, ...head0.tensors]);
    model.dispose();
  }
}

function gatherRows(features: Float32Array, idx: number[]): tf.Tensor2D {
  const out = new Float32Array(idx.length * FEATURE_DIM);
  idx.forEach((i, j) => out.set(features.subarray(i * FEATURE_DIM, (i + 1) * FEATURE_DIM), j * FEATURE_DIM));
  return tf.tensor2d(out, [idx.length, FEATURE_DIM]);
}

/** Eval-mode features of every image with the val transform; undefined when aborted. */
async function extractFeatures(model: ResNet18, items: LabeledImage[], hyper: TrainHyperparams, progress: (b: number, n: number) => void, aborted: () => boolean): Promise<Float32Array | undefined> {
  const out = new Float32Array(items.length * FEATURE_DIM);
  const batches = batchIndices([...items.keys()], hyper.batchSize, false);
  for (let b = 0; b < batches.length; b++) {
    if (aborted()) return undefined;
    const idx = batches[b]!;
    const feats = tf.tidy(() => {
      const x = inputBatch(
        idx.map((i) => items[i]!.image),
        hyper.imageSize,
        (img, o, off) => valTransform(img, hyper.imageSize, o, off),
      );
      return model.features(x, 'eval');
    });
    try {
      out.set(await feats.data(), idx[0]! * FEATURE_DIM);
    } finally {
      feats.dispose();
    }
    progress(b + 1, batches.length);
    await yieldToEventLoop();
  }
  return out;
}

async function checkpointTensors(model: ResNet18, optimizer: Sgd): Promise<Map<string, CheckpointTensor>> {
  const tensors = new Map<string, CheckpointTensor>();
  // data() already hands out a copy on wasm and webgpu (on cpu, the live values, which nothing
  // changes while the checkpoint is written: training waits for it). A second copy here cost
  // ~250 ms per checkpoint of a fine-tuned ResNet18 (weights and momentum, 90 MB).
  for (const [key, v] of model.namedVariables()) {
    tensors.set(key, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    const buf = optimizer.buffers.get(v.name);
    if (buf) tensors.set(`momentum/${key}`, { shape: buf.shape.slice(), data: (await buf.data()) as Float32Array });
  }
  return tensors;
}

function restore(model: ResNet18, optimizer: Sgd, tensors: Map<string, CheckpointTensor>, numBatchesTracked: Record<string, number>): void {
  for (const [key, v] of model.namedVariables()) {
    const t = tensors.get(key);
    if (!t || t.shape.join(',') !== v.shape.join(',')) throw new TrainConfigError(`checkpoint lacks ${key} of shape [${v.shape.join(', ')}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
    const m = tensors.get(`momentum/${key}`);
    if (m) {
      optimizer.buffers.get(v.name)?.dispose();
      optimizer.buffers.set(v.name, tf.tensor(m.data, m.shape));
    }
  }
  for (const [name, bn] of model.bns) bn.numBatchesTracked = numBatchesTracked[name] ?? 0;
}

export type { StrategyPlan };
