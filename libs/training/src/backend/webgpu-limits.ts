// The size guard of the webgpu backend. WebGPU binds each tensor as one storage buffer; a buffer
// larger than the adapter's maxStorageBufferBindingSize (128 MiB on lavapipe, often 2-4 GiB on
// NVIDIA) does not throw: Dawn logs a validation error, the kernel never runs and the result is
// silently wrong (zeros). So before training we compute the largest tensor a ResNet18 training
// step allocates for the batch and image size, and refuse with a clear message when it does not
// fit. A second net, watchWebgpuErrors() in webgpu-backend.ts, turns any validation error that
// still happens into a thrown error.
//
// Pure arithmetic over the model spec: no TensorFlow.js import, so the API can validate a run
// configuration without loading the engine.
import { ALL_CONVS, FEATURE_DIM, STEM } from '../model/resnet18-spec.js';

const FLOAT32_BYTES = 4;

/** The batch geometry the guard checks. */
export interface TrainingStepSize {
  batchSize: number;
  /** side of the square input */
  imageSize: number;
  /** classifier outputs. Default 1000 (the largest head the engine builds: ImageNet's) */
  numClasses?: number;
}

/** The adapter limits that bound one tensor, in bytes. */
export interface TensorSizeLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** adapter description for the error message */
  adapter?: string;
}

export interface TensorFootprint {
  /** what the tensor is, for messages */
  what: string;
  shape: number[];
  bytes: number;
}

export class WebgpuSizeError extends Error {
  override readonly name = 'WebgpuSizeError';
  constructor(
    message: string,
    readonly footprint: TensorFootprint,
    readonly limitBytes: number,
    /** largest batch size that fits at this image size (0: none) */
    readonly maxBatchSize: number,
  ) {
    super(message);
  }
}

function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * The tensors that bound the largest allocation of one ResNet18 training step (forward, backward,
 * SGD) at this geometry. Activations peak at the stem: conv1's output [B, S/2, S/2, 64] (BatchNorm's
 * and ReLU's outputs, their gradients and MaxPoolGrad's output have that shape too); every later
 * stage halves the side and at most doubles the channels, and the input has 3 channels. Parameters
 * peak at layer4's 3x3x512x512 conv (its gradient and momentum are the same size) or the fc weight.
 * tfjs-backend-webgpu's im2col path runs only for convolutions of at most 8 workgroups, whose
 * buffers are far below either.
 */
export function resnet18TrainingTensors(step: TrainingStepSize): TensorFootprint[] {
  const { batchSize: b, imageSize: s } = step;
  const numClasses = step.numClasses ?? 1000;
  const c = STEM.conv;
  const side = convOut(s, c.kernel, c.stride, c.pad);
  return [
    { what: 'input batch', shape: [b, s, s, 3] },
    { what: 'conv1 output', shape: [b, side, side, c.outChannels] },
    ...ALL_CONVS.map((w) => ({ what: `${w.name} weight`, shape: [w.kernel, w.kernel, w.inChannels, w.outChannels] })),
    { what: 'fc weight', shape: [FEATURE_DIM, numClasses] },
  ].map((t) => ({ ...t, bytes: t.shape.reduce((x, y) => x * y, 1) * FLOAT32_BYTES }));
}

/** The largest of {@link resnet18TrainingTensors}: what must fit one WebGPU storage binding. */
export function resnet18LargestTensor(step: TrainingStepSize): TensorFootprint {
  return resnet18TrainingTensors(step).reduce((max, t) => (t.bytes > max.bytes ? t : max));
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Largest batch size whose training step fits `limit` at this image size (0 when none does). */
export function maxWebgpuBatchSize(imageSize: number, limits: TensorSizeLimits, numClasses?: number): number {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const fits = (b: number) => resnet18LargestTensor({ batchSize: b, imageSize, numClasses }).bytes <= limit;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = 2;
  while (fits(hi) && hi < 2 ** 24) [lo, hi] = [hi, hi * 2];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Throws WebgpuSizeError, naming the tensor, the limit and the largest batch that fits, when a
 * training step at `step` needs a tensor larger than the adapter can bind.
 */
export function checkWebgpuStepFits(step: TrainingStepSize, limits: TensorSizeLimits): void {
  const footprint = resnet18LargestTensor(step);
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (footprint.bytes <= limit) return;
  const which = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const maxBatch = maxWebgpuBatchSize(step.imageSize, limits, step.numClasses);
  const fix = maxBatch > 0 ? `Use a batch size of at most ${maxBatch} at image size ${step.imageSize}` : `Image size ${step.imageSize} does not fit even at batch size 1`;
  throw new WebgpuSizeError(
    `webgpu: batch size ${step.batchSize} at image size ${step.imageSize} needs a ${mib(footprint.bytes)} tensor ` +
      `(${footprint.what} [${footprint.shape.join(', ')}]), but the adapter${limits.adapter ? ` ${limits.adapter}` : ''} binds at most ` +
      `${mib(limit)} per tensor (${which}); WebGPU would compute wrong results without an error. ${fix}, or use another backend`,
    footprint,
    limit,
    maxBatch,
  );
}
