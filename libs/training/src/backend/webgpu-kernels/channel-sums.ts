// Per-channel sums of NHWC tensors over N, H and W on webgpu, for BatchNorm's statistics and its
// gradient. tfjs-backend-webgpu reduces over non-innermost axes by first transposing the whole
// tensor, then one workgroup per channel; here the tensor is read once in place: a workgroup takes
// 64 neighbouring channels (coalesced reads) of one chunk of pixels, its 4 lanes of 64 invocations
// split the chunk's pixels and meet in workgroup memory, and a second tiny pass adds the chunks'
// partial sums per channel. The summand is an expression of the inputs at one element, so
// sum((x - mean)^2) and sum(dy * xc) need no full-size temporary.
import { tf } from '../tf.js';
import { flatLayout, type WebgpuBackendInternals, type WebgpuProgram } from './webgpu-program.js';

const CHANNELS_PER_GROUP = 64;
const LANES = 4;
/** Aim for about this many pixel chunks: enough workgroups, and a short second pass. */
const TARGET_CHUNKS = 256;

/**
 * The summand over the inputs at element (p, c), e.g. 'a[i]' or '(a[i] - b[c]) * (a[i] - b[c])';
 * input k is bound as the k-th letter a, b, c... `i` is the flat index, `c` the channel.
 */
export interface ChannelSum {
  key: string;
  summand: string;
  inputs: tf.TensorInfo[];
}

const NAMES = ['a', 'b', 'd'];

function partialProgram(pixels: number, channels: number, chunk: number, chunks: number, sum: ChannelSum): WebgpuProgram {
  const outputShape = [chunks, channels];
  return {
    outputShape,
    shaderKey: `fleetChannelSum_${sum.key}_${pixels}_${channels}_${chunk}`,
    dispatchLayout: flatLayout(outputShape),
    dispatch: [Math.ceil(channels / CHANNELS_PER_GROUP), chunks, 1],
    variableNames: NAMES.slice(0, sum.inputs.length),
    workgroupSize: [CHANNELS_PER_GROUP * LANES, 1, 1],
    getUserCode: () => `
  var<workgroup> lanes: array<f32, ${CHANNELS_PER_GROUP * LANES}>;
  fn main(index: i32) {
    _ = uniforms.NAN; // every binding tfjs passes must be used (see implicit-gemm.ts)
    let li = i32(localIndex);
    let c = i32(workgroupId.x) * ${CHANNELS_PER_GROUP} + li % ${CHANNELS_PER_GROUP};
    let lane = li / ${CHANNELS_PER_GROUP};
    let chunk = i32(workgroupId.y);
    var s = 0.0;
    if (c < ${channels}) {
      let end = min(${pixels}, (chunk + 1) * ${chunk});
      for (var p = chunk * ${chunk} + lane; p < end; p += ${LANES}) {
        let i = p * ${channels} + c;
        s += ${sum.summand};
      }
    }
    lanes[li] = s;
    workgroupBarrier();
    if (lane == 0 && c < ${channels}) {
      var t = lanes[li];
      for (var l = 1; l < ${LANES}; l++) { t += lanes[li + l * ${CHANNELS_PER_GROUP}]; }
      result[chunk * ${channels} + c] = t;
    }
  }`,
  };
}

function finishProgram(chunks: number, channels: number, divisor: number): WebgpuProgram {
  return {
    outputShape: [channels],
    shaderKey: `fleetChannelSumFinish_${chunks}_${channels}_${divisor}`,
    dispatchLayout: flatLayout([channels]),
    dispatch: [Math.ceil(channels / 64), 1, 1],
    variableNames: ['parts'],
    workgroupSize: [64, 1, 1],
    getUserCode: () => `
  fn main(index: i32) {
    _ = uniforms.NAN;
    let c = i32(globalId.x);
    if (c >= ${channels}) { return; }
    var s = 0.0;
    for (var k = 0; k < ${chunks}; k++) { s += parts[k * ${channels} + c]; }
    result[c] = s / ${divisor}.0;
  }`,
  };
}

/** sum over N*H*W of the summand, per channel, divided by `divisor` (an integer): a [C] tensor. */
export function channelSum(backend: WebgpuBackendInternals, shape: readonly number[], sum: ChannelSum, divisor = 1): tf.TensorInfo {
  const channels = shape[shape.length - 1]!;
  const pixels = tf.util.sizeFromShape(shape as number[]) / channels;
  const chunk = Math.max(LANES, Math.ceil(pixels / TARGET_CHUNKS));
  const chunks = Math.ceil(pixels / chunk);
  const parts = backend.runWebGPUProgram(partialProgram(pixels, channels, chunk, chunks, sum), sum.inputs, 'float32');
  try {
    return backend.runWebGPUProgram(finishProgram(chunks, channels, divisor), [parts], 'float32');
  } finally {
    backend.disposeData(parts.dataId);
  }
}

function webgpu(): WebgpuBackendInternals {
  return tf.backend() as unknown as WebgpuBackendInternals;
}

function asTensor(info: tf.TensorInfo): tf.Tensor1D {
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor1D;
}

/** Mean and biased variance per channel (two passes, as tf.moments computes them), on webgpu. */
export function webgpuChannelMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const backend = webgpu();
  const count = x.size / x.shape[3];
  const mean = channelSum(backend, x.shape, { key: 'sum', summand: 'a[i]', inputs: [x] }, count);
  const variance = channelSum(backend, x.shape, { key: 'sqdev', summand: '(a[i] - b[c]) * (a[i] - b[c])', inputs: [x, mean] }, count);
  return { mean: asTensor(mean), variance: asTensor(variance) };
}

/** Per channel sum(dy) and sum(dy * xc), on webgpu, without the full-size product. */
export function webgpuChannelGradSums(dy: tf.Tensor4D, xc: tf.Tensor4D): { dySum: tf.Tensor1D; dyXcSum: tf.Tensor1D } {
  const backend = webgpu();
  const dySum = channelSum(backend, dy.shape, { key: 'sum', summand: 'a[i]', inputs: [dy] });
  const dyXcSum = channelSum(backend, dy.shape, { key: 'prod', summand: 'a[i] * b[i]', inputs: [dy, xc] });
  return { dySum: asTensor(dySum), dyXcSum: asTensor(dyXcSum) };
}
