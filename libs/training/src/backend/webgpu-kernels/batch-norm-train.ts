// BatchNorm's train-mode forward and backward on webgpu in a few dispatches each, instead of the
// ~17 forward and ~19 backward elementwise and reduction kernels the tf-ops form of
// model/batch-norm.ts records per layer (ResNet18 has 20): the per-channel coefficients are formed
// inside one elementwise pass over the activations from [C] vectors.
//  forward:  y = x * scale + shift, scale = gamma * invStd, shift = beta - mean * scale
//  backward: dbeta = sum(dy), dgamma = sum(dy * (x - mean)) * invStd (two in-place channel sums,
//            channel-sums.ts, no xc tensor), then one pass dx = dy * a + (x - mean) * b + c with
//            a = gamma * invStd, b = -(a * invStd * dgamma) / count, c = -(a * dbeta) / count.
// invStd comes in as a tensor so forward and backward use the very same values (model/batch-norm.ts).
import { tf } from '../tf.js';
import { channelSum } from './channel-sums.js';
import { flatLayout, type WebgpuBackendInternals, type WebgpuProgram } from './webgpu-program.js';

const THREADS = 256;

/** One invocation per element of `shape`; `expression` may read the inputs at i (full size) or at c (channel). */
function channelwise(key: string, shape: readonly number[], variableNames: string[], expression: string): WebgpuProgram {
  const channels = shape[shape.length - 1]!;
  const size = tf.util.sizeFromShape(shape as number[]);
  return {
    outputShape: [...shape],
    shaderKey: `fleetBn_${key}_${size}_${channels}`,
    dispatchLayout: flatLayout(shape),
    dispatch: [Math.ceil(size / THREADS), 1, 1],
    variableNames,
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `
  fn main(index: i32) {
    _ = uniforms.NAN; // every binding tfjs passes must be used (see implicit-gemm.ts)
    let i = i32(workgroupId.x) * ${THREADS} + i32(localIndex);
    if (i >= ${size}) { return; }
    let c = i % ${channels};
    result[i] = ${expression};
  }`,
  };
}

function backend(): WebgpuBackendInternals {
  return tf.backend() as unknown as WebgpuBackendInternals;
}

function fits(b: WebgpuBackendInternals, x: tf.TensorInfo): boolean {
  return Math.ceil(tf.util.sizeFromShape(x.shape) / THREADS) <= b.device.limits.maxComputeWorkgroupsPerDimension;
}

const tensor = <R extends tf.Rank>(info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;

/** y = x * (gamma * invStd) + (beta - mean * gamma * invStd); undefined when too large for one dispatch. */
export function webgpuBatchNormApply(x: tf.Tensor4D, mean: tf.Tensor1D, invStd: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor4D | undefined {
  const b = backend();
  if (!fits(b, x)) return undefined;
  const program = channelwise(
    'apply',
    x.shape,
    ['xIn', 'meanIn', 'invStdIn', 'gammaIn', 'betaIn'],
    'xIn[i] * (gammaIn[c] * invStdIn[c]) + (betaIn[c] - meanIn[c] * (gammaIn[c] * invStdIn[c]))',
  );
  return tensor(b.runWebGPUProgram(program, [x, mean, invStd, gamma, beta], 'float32'));
}

/** running * keep + batch * take, per channel, in one dispatch (the running-statistics update). */
export function webgpuRunningStat(running: tf.Tensor1D, batch: tf.Tensor1D, keep: number, take: number): tf.Tensor1D {
  const f32 = (v: number) => Math.fround(v).toPrecision(9);
  const program = channelwise(`running_${f32(keep)}_${f32(take)}`, running.shape, ['runIn', 'batchIn'], `runIn[i] * ${f32(keep)} + batchIn[i] * ${f32(take)}`);
  return tensor(backend().runWebGPUProgram(program, [running, batch], 'float32'));
}

export interface BatchNormGrads {
  dx: tf.Tensor4D;
  dgamma: tf.Tensor1D;
  dbeta: tf.Tensor1D;
}

/** The train-mode BatchNorm gradients of model/batch-norm.ts; undefined when too large for one dispatch. */
export function webgpuBatchNormGrad(dy: tf.Tensor4D, x: tf.Tensor4D, mean: tf.Tensor1D, invStd: tf.Tensor1D, gamma: tf.Tensor1D): BatchNormGrads | undefined {
  const b = backend();
  if (!fits(b, x)) return undefined;
  const count = x.size / x.shape[3];
  const dbeta = channelSum(b, dy.shape, { key: 'sum', summand: 'a[i]', inputs: [dy] });
  const dyXc = channelSum(b, dy.shape, { key: 'dyxc', summand: 'a[i] * (b[i] - d[c])', inputs: [dy, x, mean] });
  try {
    const dgamma = b.runWebGPUProgram(channelwise('dgamma', [x.shape[3]], ['sIn', 'invStdIn'], 'sIn[i] * invStdIn[i]'), [dyXc, invStd], 'float32');
    const a = '(gammaIn[c] * invStdIn[c])';
    const dx = b.runWebGPUProgram(
      channelwise(
        `dx_${count}`,
        x.shape,
        ['dyIn', 'xIn', 'meanIn', 'invStdIn', 'gammaIn', 'dbetaIn', 'dgammaIn'],
        `dyIn[i] * ${a} + (xIn[i] - meanIn[c]) * (-(${a} * invStdIn[c] * dgammaIn[c]) / ${count}.0) + (-(${a} * dbetaIn[c]) / ${count}.0)`,
      ),
      [dy, x, mean, invStd, gamma, dbeta, dgamma],
      'float32',
    );
    return { dx: tensor(dx), dgamma: tensor(dgamma), dbeta: tensor(dbeta) };
  } finally {
    b.disposeData(dyXc.dataId);
  }
}
