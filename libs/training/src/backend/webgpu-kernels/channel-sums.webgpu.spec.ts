// BatchNorm's channel reductions on webgpu (one in-place pass per sum, no transpose) against the
// cpu backend's tf.moments / tf.sum: channel counts below, at and past one 64-channel group, pixel
// counts that do not fill the last chunk or lane. lavapipe in CI; skipped without an adapter unless CI=true.
import { channelGradSums, channelMoments } from '../../model/channel-stats.js';
import { tf } from '../tf.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from '../webgpu-backend.js';
import { webgpuTrainingKernelsActive } from './register-webgpu-kernels.js';

const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu channel-sum tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

const SHAPES: [number, number, number, number][] = [
  [2, 1, 1, 3],
  [1, 7, 5, 64],
  [3, 9, 11, 70],
  [4, 33, 31, 8], // 4092 pixels: chunks of 16 with a ragged last one
];

function values(size: number, salt: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.61 + salt) * 2 + 0.5);
}

async function stats(backend: 'cpu' | 'webgpu', shape: [number, number, number, number]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const size = shape.reduce((a, b) => a * b);
  const x = tf.tensor4d(values(size, 1), shape);
  const dy = tf.tensor4d(values(size, 2), shape);
  const xc = tf.tensor4d(values(size, 3), shape);
  const { mean, variance } = channelMoments(x);
  const { dySum, dyXcSum } = channelGradSums(dy, xc);
  const out = (await Promise.all([mean, variance, dySum, dyXcSum].map((t) => t.data()))) as Float32Array[];
  tf.dispose([x, dy, xc, mean, variance, dySum, dyXcSum]);
  return out;
}

(webgpu || inCi ? describe : describe.skip)('BatchNorm channel sums on webgpu against the cpu backend', () => {
  beforeAll(() => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
  });
  afterEach(() => assertNoWebgpuErrors());

  it('runs with our kernels switched on (else the comparison below would test tfjs against itself)', async () => {
    await tf.setBackend('webgpu');
    expect(webgpuTrainingKernelsActive()).toBe(true);
  });

  it.each(SHAPES)('[%i, %i, %i, %i]', async (...shape) => {
    const want = await stats('cpu', shape);
    const got = await stats('webgpu', shape);
    ['mean', 'variance', 'dySum', 'dyXcSum'].forEach((name, k) => {
      const [g, w] = [got[k]!, want[k]!];
      expect(g.length).toBe(shape[3]);
      const scale = Math.max(1, ...Array.from(w, Math.abs));
      const err = Math.max(...Array.from(g, (v, i) => Math.abs(v - w[i]!)));
      expect([name, err / scale < 1e-5]).toEqual([name, true]);
    });
  }, 120_000);
});
