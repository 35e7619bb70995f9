import { initBackend } from './init-backend.js';
import { MAX_POOL_CASES as CASES, maxPoolReferenceDx as referenceDx, type MaxPoolCase as Case } from './testing/max-pool-reference.js';
import { tf } from './tf.js';

function maxPoolDx(x: Float32Array, dyValues: (outShape: number[]) => Float32Array, c: Case): { dx: Float32Array; dy: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, c.shape);
    const outShape = tf.maxPool(xt, c.k, c.s, c.pad).shape;
    const dy = dyValues(outShape);
    const weights = tf.tensor(dy, outShape);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, c.k, c.s, c.pad), weights)))(xt);
    return { dx: dx.dataSync() as Float32Array, dy };
  });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const gradient = (shape: number[]) => Float32Array.from({ length: size(shape) }, (_, i) => Math.cos(i * 0.61) + 0.25);

describe('wasm MaxPoolGrad (PyTorch semantics)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(CASES)('routes every window to its first maximum, ties and all-zero windows included: %o', (c) => {
    // Small integers after a ReLU: many ties, many windows of zeros.
    const x = Float32Array.from({ length: size(c.shape) }, (_, i) => Math.max(0, Math.round(Math.sin(i * 1.3) * 3)));
    const { dx, dy } = maxPoolDx(x, gradient, c);
    expect(Array.from(dx)).toEqual(Array.from(referenceDx(x, dy, c)));
  });

  it.each(CASES)('equals the cpu backend on distinct values: %o', async (c) => {
    const x = Float32Array.from({ length: size(c.shape) }, (_, i) => Math.sin(i * 0.37 + 1) * 2);
    const ours = maxPoolDx(x, gradient, c).dx;
    await tf.setBackend('cpu');
    try {
      const cpu = maxPoolDx(x, gradient, c).dx;
      ours.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 6));
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('frees everything but its result', () => {
    const c = CASES[0]!;
    const x = Float32Array.from({ length: size(c.shape) }, (_, i) => Math.sin(i));
    maxPoolDx(x, gradient, c);
    const before = tf.memory().numTensors;
    const bytes = (tf.memory() as { numBytesInWASM?: number }).numBytesInWASM;
    maxPoolDx(x, gradient, c);
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.memory() as { numBytesInWASM?: number }).numBytesInWASM).toBe(bytes);
  });
});
