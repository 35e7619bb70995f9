// BatchNorm2d with PyTorch semantics (eps 1e-5, momentum 0.1): train mode normalises with the
// biased batch variance and folds the UNBIASED one (n/(n-1)) into running_var; eval mode uses the
// running statistics. The train-mode gradient is written by hand (tf.customGrad): tfjs's generic
// batchNorm gradient materialises full-size Tile tensors, which cost ~17% of a training step and
// ~1 GB of wasm heap at 224px/batch 16.
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, onednnActive } from '../backend/onednn-kernels.js';
import { tf } from '../backend/tf.js';
import { webgpuBatchNormApply, webgpuBatchNormGrad, webgpuRunningStat } from '../backend/webgpu-kernels/batch-norm-train.js';
import { webgpuTrainingKernelsActive } from '../backend/webgpu-kernels/register-webgpu-kernels.js';
import { channelGradSums, channelMoments } from './channel-stats.js';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNormState {
  weight: tf.Variable<tf.Rank.R1>;
  bias: tf.Variable<tf.Rank.R1>;
  runningMean: tf.Variable<tf.Rank.R1>;
  runningVar: tf.Variable<tf.Rank.R1>;
  numBatchesTracked: number;
  /** running-stat momentum; 0.1 like PyTorch (1 = take the last batch's statistics) */
  momentum?: number;
}

/** Eval mode: y = x * scale + shift with the running statistics. */
export function batchNormEval(x: tf.Tensor4D, bn: BatchNormState): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
    const shift = tf.sub(bn.bias, tf.mul(bn.runningMean, scale));
    return tf.add(tf.mul(x, scale), shift);
  });
}

/** Options of {@link batchNormTrain}. */
export interface BatchNormTrainOptions {
  /** Update bn's running statistics (false only for callers that replay a forward pass). Default true */
  updateStats?: boolean;
  /** Added to the normalised output before the ReLU (a residual block's identity). Default none */
  residual?: tf.Tensor4D;
  /** ReLU on the output. Default false */
  relu?: boolean;
}

/**
 * Train mode: [relu](batchNorm(x) [+ residual]). Updates bn's running statistics as a side effect,
 * like PyTorch's forward does. On the native path the whole expression is one kernel each way
 * (statistics, normalisation, residual and ReLU in two passes over the activations instead of
 * six); elsewhere it is composed from tf ops, exactly as before the fusion.
 */
export function batchNormTrain(x: tf.Tensor4D, bn: BatchNormState, options: BatchNormTrainOptions = {}): tf.Tensor4D {
  const channels = x.shape[3];
  const count = x.size / channels;
  if (count < 2) {
    throw new Error(`BatchNorm in train mode needs more than one value per channel (got input ${JSON.stringify(x.shape)})`);
  }
  if (onednnActive()) return nativeBatchNormTrain(x, bn, options, count);
  const y = composedBatchNormTrain(x, bn, options.updateStats ?? true, count);
  if (!options.residual && !options.relu) return y;
  return tf.tidy(() => {
    const sum = options.residual ? tf.add<tf.Tensor4D>(y, options.residual) : y;
    return options.relu ? tf.relu(sum) : sum;
  });
}

/** Folds a batch's statistics into the running ones, PyTorch's way (unbiased variance). */
function updateRunningStats(bn: BatchNormState, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
  const momentum = bn.momentum ?? BN_MOMENTUM;
  const unbiased = (momentum * count) / (count - 1);
  tf.tidy(() => {
    if (webgpuTrainingKernelsActive()) {
      // one dispatch per statistic instead of three (backend/webgpu-kernels/batch-norm-train.ts)
      bn.runningMean.assign(webgpuRunningStat(bn.runningMean, mean, 1 - momentum, momentum));
      bn.runningVar.assign(webgpuRunningStat(bn.runningVar, variance, 1 - momentum, unbiased));
      return;
    }
    bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(mean, momentum)));
    bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - momentum), tf.mul(variance, unbiased)));
  });
  bn.numBatchesTracked += 1;
}

function nativeBatchNormTrain(x: tf.Tensor4D, bn: BatchNormState, options: BatchNormTrainOptions, count: number): tf.Tensor4D {
  const relu = options.relu ?? false;
  const residual = options.residual;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xt, gamma, beta, res] = args as tf.Tensor[];
    const inputs: tf.NamedTensorMap = { x: xt!, gamma: gamma!, beta: beta! };
    if (res) inputs.residual = res;
    const [y, mean, variance, invStd, mask] = tf.engine().runKernel(BATCH_NORM_TRAIN, inputs, { epsilon: BN_EPS, relu }) as tf.Tensor[];
    if (options.updateStats ?? true) updateRunningStats(bn, mean as tf.Tensor1D, variance as tf.Tensor1D, count);
    // With the ReLU, its byte mask (a quarter of y's bytes) is what the backward pass reads.
    save(mask ? [xt!, mean!, invStd!, gamma!, mask] : [xt!, mean!, invStd!, gamma!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, meanS, invStdS, gammaS, maskS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        const gradInputs: tf.NamedTensorMap = { dy, x: xs, mean: meanS, invStd: invStdS, gamma: gammaS };
        if (maskS) gradInputs.mask = maskS;
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, gradInputs, { residual: residual !== undefined }) as tf.Tensor[];
      },
    };
  });
  return (residual ? op(x, bn.weight, bn.bias, residual) : op(x, bn.weight, bn.bias)) as tf.Tensor4D;
}

/** batchNorm(x) alone from tf ops, with the hand-written gradient. */
function composedBatchNormTrain(x: tf.Tensor4D, bn: BatchNormState, updateStats: boolean, count: number): tf.Tensor4D {
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const xt = xIn as tf.Tensor4D;
    const gamma = gammaIn as tf.Tensor1D;
    const beta = betaIn as tf.Tensor1D;
    const saveFn = save as tf.GradSaveFunc;
    const { mean, variance } = channelMoments(xt);
    const invStd = tf.rsqrt(tf.add(variance, BN_EPS)) as tf.Tensor1D;
    const onWebgpu = webgpuTrainingKernelsActive();
    if (updateStats) updateRunningStats(bn, mean, variance, count);
    // On wasm: one fused pass over the activations (its FusedBatchNorm kernel) instead of a mul
    // and an add. Elsewhere the explicit form, which normalises with the same invStd the hand-written
    // gradient uses: webgpu's batchNorm kernel computes its own inverse square root, and that
    // mismatch moved a 2-step loss by 1.4e-4 against PyTorch (parity bound 1e-4). On webgpu with our
    // kernels: the explicit form as one pass (backend/webgpu-kernels/batch-norm-train.ts).
    const fusedValue = onWebgpu ? webgpuBatchNormApply(xt, mean, invStd, gamma, beta) : undefined;
    const value =
      fusedValue ??
      (tf.getBackend() === 'wasm'
        ? (tf.batchNorm(xt, mean, variance, beta, gamma, BN_EPS) as tf.Tensor4D)
        : tf.tidy(() => {
            const scale = tf.mul(gamma, invStd);
            const shift = tf.sub(beta, tf.mul(mean, scale));
            return tf.add(tf.mul(xt, scale), shift) as tf.Tensor4D;
          }));
    saveFn([xt, mean, invStd, gamma]);
    return {
      value,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, meanS, invStdS, gammaS] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const fused = onWebgpu ? webgpuBatchNormGrad(dy, xs, meanS, invStdS, gammaS) : undefined;
        if (fused) return [fused.dx, fused.dgamma, fused.dbeta];
        return tf.tidy(() => {
          const xc = tf.sub(xs, meanS);
          const { dySum: dbeta, dyXcSum } = channelGradSums(dy, xc as tf.Tensor4D);
          const dgamma = tf.mul(dyXcSum, invStdS);
          // dx = gamma*invStd * (dy - dbeta/m - xhat*dgamma/m), with xhat = xc*invStd folded into
          // per-channel coefficients so only three full-size products are formed.
          const a = tf.mul(gammaS, invStdS);
          const b = tf.neg(tf.div(tf.mul(tf.mul(a, invStdS), dgamma), count));
          const c = tf.neg(tf.div(tf.mul(a, dbeta), count));
          const dx = tf.add(tf.add(tf.mul(dy, a), tf.mul(xc, b)), c);
          return [dx, dgamma, dbeta];
        });
      },
    };
  });
  return op(x, bn.weight, bn.bias) as tf.Tensor4D;
}
