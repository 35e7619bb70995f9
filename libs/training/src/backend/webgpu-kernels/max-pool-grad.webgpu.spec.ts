// MaxPoolGrad on webgpu against PyTorch's routing written plainly (first maximum per window, ties
// and all-zero windows included, overlapping windows summed in output order): exact equality.
// lavapipe in CI; skipped without an adapter unless CI=true.
import { MAX_POOL_CASES, maxPoolReferenceDx, type MaxPoolCase } from '../testing/max-pool-reference.js';
import { tf } from '../tf.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from '../webgpu-backend.js';
import { takeWebgpuKernelUse } from './register-webgpu-kernels.js';

const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu MaxPoolGrad tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

async function maxPoolDx(x: Float32Array, c: MaxPoolCase): Promise<{ dx: Float32Array; dy: Float32Array }> {
  const xt = tf.tensor4d(x, c.shape);
  const outShape = tf.tidy(() => tf.maxPool(xt, c.k, c.s, c.pad).shape);
  const dy = Float32Array.from({ length: size(outShape) }, (_, i) => Math.cos(i * 0.61) + 0.25);
  const weights = tf.tensor(dy, outShape);
  const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, c.k, c.s, c.pad), weights)))(xt);
  const values = (await dx.data()) as Float32Array;
  tf.dispose([xt, weights, dx]);
  return { dx: values, dy };
}

(webgpu || inCi ? describe : describe.skip)('webgpu MaxPoolGrad (PyTorch semantics)', () => {
  beforeAll(async () => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    await tf.setBackend('webgpu');
  });
  afterEach(() => assertNoWebgpuErrors());

  it.each(MAX_POOL_CASES)('routes every window to its first maximum, ties and all-zero windows included: %o', async (c) => {
    takeWebgpuKernelUse();
    // Small integers after a ReLU: many ties, many windows of zeros.
    const x = Float32Array.from({ length: size(c.shape) }, (_, i) => Math.max(0, Math.round(Math.sin(i * 1.3) * 3)));
    const { dx, dy } = await maxPoolDx(x, c);
    expect(takeWebgpuKernelUse().ours.MaxPoolGrad).toBe(1);
    expect(Array.from(dx)).toEqual(Array.from(maxPoolReferenceDx(x, dy, c)));
  }, 60_000);
});
