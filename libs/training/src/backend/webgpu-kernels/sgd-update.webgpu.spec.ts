// The SGD-momentum update on webgpu (two dispatches per parameter) against the same Sgd on the cpu
// backend: three steps (first-step buffer, then momentum), with and without weight decay and
// momentum, parameters of several shapes and two lr groups. lavapipe in CI; skipped without an
// adapter unless CI=true.
import { Sgd, type SgdOptions } from '../../optim/sgd.js';
import { tf } from '../tf.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from '../webgpu-backend.js';
import { webgpuTrainingKernelsActive } from './register-webgpu-kernels.js';
import { webgpuSgdStep } from './sgd-update.js';

const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu SGD tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

const SHAPES = [[3, 3, 5, 7], [1003], [2]];

function values(size: number, salt: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.43 + salt));
}

/** Parameters after three SGD steps with fixed gradients, read back. */
async function threeSteps(backend: 'cpu' | 'webgpu', options: SgdOptions): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const params = SHAPES.map((shape, k) => tf.variable(tf.tensor(values(shape.reduce((a, b) => a * b), k), shape), true, `p${k}_${backend}_${options.momentum}`));
  const grads = params.map((p, k) => tf.tensor(values(p.size, 10 + k), p.shape));
  const opt = new Sgd([{ name: 'backbone', params: params.slice(0, 2), lr: 0.01 }, { name: 'head', params: params.slice(2), lr: 0.1 }], options);
  for (let step = 0; step < 3; step++) opt.step(Object.fromEntries(params.map((p, k) => [p.name, grads[k]!])));
  const out = (await Promise.all(params.map((p) => p.data()))) as Float32Array[];
  opt.dispose();
  tf.dispose([...params, ...grads]);
  return out;
}

(webgpu || inCi ? describe : describe.skip)('SGD update on webgpu against the cpu backend', () => {
  beforeAll(async () => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    await tf.setBackend('webgpu');
  });
  afterEach(() => assertNoWebgpuErrors());

  it('runs with our kernels switched on (else the comparison below would test tfjs against itself)', async () => {
    await tf.setBackend('webgpu');
    expect(webgpuTrainingKernelsActive()).toBe(true);
  });

  it('takes the fused path on webgpu', () => {
    const p = tf.tensor1d([1, 2, 3]);
    const g = tf.tensor1d([1, 1, 1]);
    const step = webgpuSgdStep(p, g, undefined, { lr: 0.1, momentum: 0.9, weightDecay: 0 });
    expect(step?.velocity?.shape).toEqual([3]);
    tf.dispose([p, g, step?.param, step?.velocity].filter((t): t is tf.Tensor => t !== undefined));
  });

  it.each([
    { momentum: 0.9, weightDecay: 0.01 },
    { momentum: 0.9, weightDecay: 0 },
    { momentum: 0, weightDecay: 0.01 },
  ])('three steps match the cpu backend: %o', async (options) => {
    const want = await threeSteps('cpu', options);
    const got = await threeSteps('webgpu', options);
    got.forEach((g, k) => {
      const err = Math.max(...Array.from(g, (v, i) => Math.abs(v - want[k]![i]!)));
      expect(err).toBeLessThan(1e-6);
    });
  }, 60_000);
});
