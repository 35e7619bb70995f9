// The engine's public vocabulary: strategies, run configuration and the metrics it reports.
// Pure types and constants (no TensorFlow.js import), so the API, queue contracts and dashboard can
// use them without loading the engine.

/** How the convolutional feature extractor is treated; see README "Strategies". */
export const STRATEGIES = ['scratch', 'finetune', 'freeze', 'zero-lr', 'group-lr', 'linear-probe'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Strategies that start from pretrained weights (and therefore need a weights file). */
export const PRETRAINED_STRATEGIES: readonly Strategy[] = ['finetune', 'freeze', 'zero-lr', 'group-lr', 'linear-probe'];

/** The models a run leaves (see model-files). best: the epoch with the highest val accuracy (the first one reaching it); final: the last epoch. */
export const MODEL_EPOCHS = ['best', 'final'] as const;
export type ModelEpoch = (typeof MODEL_EPOCHS)[number];

/**
 * 'wasm+onednn': the wasm backend with its heavy kernels native (oneDNN + OpenMP, see
 * backend/onednn-kernels.ts); 'wasm': plain wasm (the fallback where the addon is not built).
 */
export const BACKENDS = ['tensorflow', 'webgpu', 'wasm+onednn', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Hyper-parameters of one run. Defaults are the tutorial's (see TRAIN_DEFAULTS). */
export interface TrainHyperparams {
  strategy: Strategy;
  /** fc learning rate (and the backbone's for finetune/scratch). Default 0.001 */
  lr: number;
  /** group-lr only: backbone lr = lrFactor x lr. Default 0.1 */
  lrFactor: number;
  /** SGD momentum. Default 0.9 */
  momentum: number;
  /** SGD weight decay (PyTorch semantics, added to the gradient). Default 0 */
  weightDecay: number;
  /** Default 25 */
  epochs: number;
  /** Default 16 */
  batchSize: number;
  /** Side of the square network input. Default 224 (tests use small sizes). */
  imageSize: number;
  /** Seeds init, shuffles and augmentations. Default 0 */
  seed: number;
  /** StepLR step size in epochs. Default 7 */
  stepSize: number;
  /** StepLR gamma. Default 0.1 */
  gamma: number;
}

export const TRAIN_DEFAULTS: Omit<TrainHyperparams, 'strategy'> = {
  lr: 0.001,
  lrFactor: 0.1,
  momentum: 0.9,
  weightDecay: 0,
  epochs: 25,
  batchSize: 16,
  imageSize: 224,
  seed: 0,
  stepSize: 7,
  gamma: 0.1,
};

/** What the engine reports after each epoch (epochs are numbered from 1). */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  /** lr of each param group during the epoch (backbone first when there are two groups). */
  lrs: number[];
  seconds: number;
  imagesPerSec: number;
  trainableParams: number;
  /** ||w - w0|| / ||w0|| over backbone conv/bn weights since epoch 0. */
  backboneDrift: number;
  /** Same for BatchNorm running mean/var. */
  bnStatsDrift: number;
}

export interface BatchProgress {
  epoch: number;
  phase: 'train' | 'val' | 'features';
  batch: number;
  batches: number;
  /** running mean loss of the phase so far */
  loss: number;
}

export interface BackendInfo {
  name: BackendName;
  /** adapter vendor/architecture/description, device, or build details */
  info?: string;
}
