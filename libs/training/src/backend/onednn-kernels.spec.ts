// The native path's non-convolution kernels against the plain wasm path, which the PyTorch parity
// fixtures already pin: BatchNorm in train mode with the fused residual add and ReLU (forward,
// running statistics, every gradient) and max-pool backward (PyTorch's routing, bit for bit).
// Skipped only where the addon is switched off (FLEET_NATIVE=0, the fallback CI run).
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';
import { batchNormTrain, type BatchNormState } from '../model/batch-norm.js';
import { NATIVE_ENABLED } from '../train/testing/cpu-paths.js';
import { maxRelErr } from '../train/testing/max-rel-err.js';

const native = NATIVE_ENABLED ? describe : describe.skip;

type Shape = [number, number, number, number];

function values(size: number, salt: number, scale = 1): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.61 + salt) * scale + 0.1 * Math.cos(i * 0.13 + salt * 3));
}

/** A variable owning its buffer (tf.variable keeps its initial tensor alive otherwise). */
function variable(data: Float32Array, trainable: boolean): tf.Variable<tf.Rank.R1> {
  const init = tf.tensor1d(data);
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

interface BnResult {
  y: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  dResidual?: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** One BatchNorm train step on the current backend path: output, gradients, running statistics. */
async function batchNormStep(shape: Shape, relu: boolean, withResidual: boolean): Promise<BnResult> {
  const channels = shape[3];
  const size = shape.reduce((a, b) => a * b, 1);
  const bn: BatchNormState = {
    weight: variable(values(channels, 1, 0.5).map((v) => v + 1), true),
    bias: variable(values(channels, 2, 0.3), true),
    runningMean: variable(values(channels, 3, 0.2), false),
    runningVar: variable(values(channels, 4, 0.2).map((v) => v + 1), false),
    numBatchesTracked: 0,
  };
  const x = tf.tensor4d(values(size, 5, 2), shape);
  const residual = tf.tensor4d(values(size, 6, 0.7), shape);
  const upstream = tf.tensor4d(values(size, 7), shape);
  const inputs = withResidual ? [x, bn.weight, bn.bias, residual] : [x, bn.weight, bn.bias];
  const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => {
    const y = batchNormTrain(args[0] as tf.Tensor4D, { ...bn, weight: args[1] as tf.Variable<tf.Rank.R1>, bias: args[2] as tf.Variable<tf.Rank.R1> }, { relu, residual: args[3] as tf.Tensor4D | undefined });
    return tf.sum(tf.mul(y, upstream));
  })(inputs);
  // The output itself, once more without a tape (same statistics: running stats are not read in train mode).
  const y = tf.tidy(() => batchNormTrain(x, bn, { relu, residual: withResidual ? residual : undefined, updateStats: false }));
  const result: BnResult = {
    y: await y.data<'float32'>(),
    dx: await grads[0]!.data<'float32'>(),
    dgamma: await grads[1]!.data<'float32'>(),
    dbeta: await grads[2]!.data<'float32'>(),
    dResidual: withResidual ? await grads[3]!.data<'float32'>() : undefined,
    runningMean: await bn.runningMean.data<'float32'>(),
    runningVar: await bn.runningVar.data<'float32'>(),
  };
  tf.dispose([value, ...grads, y, x, residual, upstream, bn.weight, bn.bias, bn.runningMean, bn.runningVar]);
  return result;
}

const BN_CASES: [Shape, boolean, boolean][] = [
  [[2, 5, 3, 3], false, false], // 3 channels: less than one 16-wide block
  [[4, 3, 3, 40], true, false], // 40: blocks of 16 and a remainder
  [[2, 7, 7, 64], true, true], // a residual block's second BatchNorm
  [[1, 4, 4, 24], false, true],
  [[16, 1, 1, 8], true, false], // 1x1 maps (ResNet18's layer4 at 32 px)
];

native('native kernels on the wasm heap', () => {
  it.each(BN_CASES)('BatchNorm train %j relu=%s residual=%s equals the composed wasm path', async (shape, relu, residual) => {
    await initBackend('wasm');
    const ref = await batchNormStep(shape, relu, residual);
    await initBackend('wasm+onednn');
    const got = await batchNormStep(shape, relu, residual);
    // The statistics are summed in the same order as tf.moments on wasm: bit for bit.
    expect(Array.from(got.runningMean)).toEqual(Array.from(ref.runningMean));
    expect(Array.from(got.runningVar)).toEqual(Array.from(ref.runningVar));
    expect(maxRelErr(got.y, ref.y)).toBeLessThan(1e-6);
    expect(maxRelErr(got.dx, ref.dx)).toBeLessThan(1e-5);
    expect(maxRelErr(got.dgamma, ref.dgamma)).toBeLessThan(1e-5);
    expect(maxRelErr(got.dbeta, ref.dbeta)).toBeLessThan(1e-6);
    if (residual) expect(maxRelErr(got.dResidual!, ref.dResidual!)).toBeLessThan(1e-6);
  });

  it('max-pool backward routes like PyTorch, bit for bit with the wasm kernel (ties, all-negative windows, NaN)', async () => {
    const shape: Shape = [3, 9, 8, 20];
    const size = shape.reduce((a, b) => a * b, 1);
    // Quantised values make ties common; a band of negatives and one NaN test the start value and NaN rule.
    const data = Float32Array.from({ length: size }, (_, i) => (i % 97 < 30 ? -1 - (i % 3) : Math.round(Math.sin(i * 0.7) * 2)));
    data[123] = NaN;
    const run = async () => {
      const x = tf.tensor4d(data, shape);
      const dy = tf.tensor4d(values(3 * 5 * 4 * 20, 9), [3, 5, 4, 20]);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 1), dy)))(x);
      const out = await dx.data<'float32'>();
      tf.dispose([x, dy, dx]);
      return out;
    };
    await initBackend('wasm');
    const ref = await run();
    await initBackend('wasm+onednn');
    const got = await run();
    expect(got.some((v) => v !== 0)).toBe(true);
    expect(Array.from(got)).toEqual(Array.from(ref));
  });

  it('keeps tensors flat across steps', async () => {
    await initBackend('wasm+onednn');
    await batchNormStep([2, 4, 4, 16], true, true);
    const before = tf.memory().numTensors;
    await batchNormStep([2, 4, 4, 16], true, true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
