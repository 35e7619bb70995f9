// Train-mode BatchNorm on webgpu (one-pass forward, channel sums + one-pass backward, one-dispatch
// running statistics) against the same batchNormTrain on the cpu backend: output, dx, dgamma, dbeta
// and the running statistics on shapes with channel counts
// below and past 64 and odd spatial sizes. lavapipe in CI; skipped without an adapter unless CI=true.
import { batchNormTrain, type BatchNormState } from '../../model/batch-norm.js';
import { tf } from '../tf.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from '../webgpu-backend.js';
import { webgpuTrainingKernelsActive } from './register-webgpu-kernels.js';

const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu BatchNorm tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

const SHAPES: [number, number, number, number][] = [
  [2, 3, 5, 7],
  [1, 4, 4, 70],
  [3, 9, 7, 16],
];

function values(size: number, salt: number, scale = 1): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.53 + salt) * scale + 0.3);
}

async function forwardBackward(backend: 'cpu' | 'webgpu', shape: [number, number, number, number]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const channels = shape[3];
  const size = shape.reduce((a, b) => a * b);
  const bn: BatchNormState = {
    weight: tf.variable(tf.tensor1d(values(channels, 1))),
    bias: tf.variable(tf.tensor1d(values(channels, 2))),
    runningMean: tf.variable(tf.zeros([channels])),
    runningVar: tf.variable(tf.ones([channels])),
    numBatchesTracked: 0,
  };
  const x = tf.tensor4d(values(size, 3, 2), shape);
  const upstream = tf.tensor4d(values(size, 4), shape);
  const y = batchNormTrain(x, bn); // updates the running statistics once
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(batchNormTrain(x, bn, { updateStats: false }), upstream)) as tf.Scalar, [bn.weight, bn.bias]);
  const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(v as tf.Tensor4D, bn, { updateStats: false }), upstream)))(x);
  const out = (await Promise.all([y, dx, grads[bn.weight.name]!, grads[bn.bias.name]!, bn.runningMean, bn.runningVar].map((t) => t.data()))) as Float32Array[];
  tf.dispose([x, upstream, y, dx, value, ...Object.values(grads), bn.weight, bn.bias, bn.runningMean, bn.runningVar]);
  return out;
}

(webgpu || inCi ? describe : describe.skip)('train-mode BatchNorm on webgpu against the cpu backend', () => {
  beforeAll(() => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
  });
  afterEach(() => assertNoWebgpuErrors());

  it('runs with our kernels switched on (else the comparison below would test tfjs against itself)', async () => {
    await tf.setBackend('webgpu');
    expect(webgpuTrainingKernelsActive()).toBe(true);
  });

  it.each(SHAPES)('[%i, %i, %i, %i]: output, dx, dgamma, dbeta, running statistics', async (...shape) => {
    const want = await forwardBackward('cpu', shape);
    const got = await forwardBackward('webgpu', shape);
    ['y', 'dx', 'dgamma', 'dbeta', 'runningMean', 'runningVar'].forEach((name, k) => {
      const [g, w] = [got[k]!, want[k]!];
      const scale = Math.max(1, ...Array.from(w, Math.abs));
      const err = Math.max(...Array.from(g, (v, i) => Math.abs(v - w[i]!)));
      expect([name, g.length, err / scale < 1e-5]).toEqual([name, w.length, true]);
    });
  }, 120_000);
});
