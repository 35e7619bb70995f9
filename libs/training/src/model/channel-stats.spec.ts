import { initBackend } from '../backend/init-backend.js';
import { tf } from '../backend/tf.js';
import { channelGradSums, channelMoments } from './channel-stats.js';

// BatchNorm's per-channel reductions replace tf.moments / tf.sum on wasm for speed only: the
// numbers must be the very same floats, or the PyTorch parity of a training step moves (a float64
// accumulation moved the 2-step parity loss by 1.3e-4).
const SHAPES: [number, number, number, number][] = [
  [2, 1, 1, 40],
  [4, 3, 3, 8],
  [2, 16, 16, 64],
  [8, 28, 28, 16],
];

function differing(a: tf.Tensor, b: tf.Tensor): number {
  const [u, v] = [Array.from(a.dataSync()), Array.from(b.dataSync())];
  expect(u.length).toBe(v.length);
  return u.reduce((n, x, i) => n + (Object.is(x, v[i]) ? 0 : 1), 0);
}

describe('channel statistics for BatchNorm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(SHAPES)('equal tf.moments and tf.sum bit for bit on wasm: [%i,%i,%i,%i]', (...shape) => {
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0.7, 2.5, 'float32', 11) as tf.Tensor4D;
      const dy = tf.randomNormal(shape, 0, 1, 'float32', 12) as tf.Tensor4D;
      const ours = channelMoments(x);
      const ref = tf.moments(x, [0, 1, 2]);
      expect(differing(ours.mean, ref.mean)).toBe(0);
      expect(differing(ours.variance, ref.variance)).toBe(0);
      const xc = tf.sub(x, ref.mean) as tf.Tensor4D;
      const sums = channelGradSums(dy, xc);
      expect(differing(sums.dySum, tf.sum(dy, [0, 1, 2]))).toBe(0);
      expect(differing(sums.dyXcSum, tf.sum(tf.mul(dy, xc), [0, 1, 2]))).toBe(0);
    });
  });

  it('falls back to tf ops on other backends, with the same values', async () => {
    const shape: [number, number, number, number] = [2, 4, 4, 6];
    const values = Float32Array.from({ length: 2 * 4 * 4 * 6 }, (_, i) => Math.sin(i * 0.7) * 3 + 1);
    const onWasm = tf.tidy(() => Array.from(channelMoments(tf.tensor4d(values, shape)).variance.dataSync()));
    await tf.setBackend('cpu');
    try {
      const onCpu = tf.tidy(() => Array.from(channelMoments(tf.tensor4d(values, shape)).variance.dataSync()));
      onCpu.forEach((v, i) => expect(v).toBeCloseTo(onWasm[i]!, 5));
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('leaves no tensors behind but its results', () => {
    const x = tf.randomNormal([2, 3, 3, 4]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { mean, variance } = channelMoments(x);
    const { dySum, dyXcSum } = channelGradSums(x, x);
    expect(tf.memory().numTensors).toBe(before + 4);
    tf.dispose([x, mean, variance, dySum, dyXcSum]);
  });
});
