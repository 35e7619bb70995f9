// BatchNorm2d with PyTorch semantics (eps 1e-5, momentum 0.1): train mode normalises with the
// biased batch variance and folds the UNBIASED one (n/(n-1)) into running_var; eval mode uses the
// running statistics. The train-mode gradient is written by hand (tf.customGrad): tfjs's generic
// batchNorm gradient materialises full-size Tile tensors, which cost ~17% of a training step and
// ~1 GB of wasm heap at 224px/batch 16.
import { tf } from '../backend/tf.js';
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

/**
 * Train mode. Updates bn's running statistics as a side effect, like PyTorch's forward does;
 * `updateStats: false` only for callers that replay a forward pass.
 */
export function batchNormTrain(x: tf.Tensor4D, bn: BatchNormState, updateStats = true): tf.Tensor4D {
  const channels = x.shape[3];
  const count = x.size / channels;
  if (count < 2) {
    throw new Error(`BatchNorm in train mode needs more than one value per channel (got input ${JSON.stringify(x.shape)})`);
  }
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const xt = xIn as tf.Tensor4D;
    const gamma = gammaIn as tf.Tensor1D;
    const beta = betaIn as tf.Tensor1D;
    const saveFn = save as tf.GradSaveFunc;
    const { mean, variance } = channelMoments(xt);
    const invStd = tf.rsqrt(tf.add(variance, BN_EPS));
    if (updateStats) {
      const momentum = bn.momentum ?? BN_MOMENTUM;
      tf.tidy(() => {
        bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(mean, momentum)));
        bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - momentum), tf.mul(variance, (momentum * count) / (count - 1))));
      });
      bn.numBatchesTracked += 1;
    }
    // On wasm: one fused pass over the activations (its FusedBatchNorm kernel) instead of a mul
    // and an add. Elsewhere the explicit form, which normalises with the same invStd the hand-written
    // gradient uses: webgpu's batchNorm kernel computes its own inverse square root, and that
    // mismatch moved a 2-step loss by 1.4e-4 against PyTorch (parity bound 1e-4).
    const value =
      tf.getBackend() === 'wasm'
        ? (tf.batchNorm(xt, mean, variance, beta, gamma, BN_EPS) as tf.Tensor4D)
        : tf.tidy(() => {
            const scale = tf.mul(gamma, invStd);
            const shift = tf.sub(beta, tf.mul(mean, scale));
            return tf.add(tf.mul(xt, scale), shift) as tf.Tensor4D;
          });
    saveFn([xt, mean, invStd, gamma]);
    return {
      value,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, meanS, invStdS, gammaS] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
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
