import { initBackend } from './init-backend.js';
import { tf } from './tf.js';

interface Case {
  shape: [number, number, number, number];
  k: number;
  s: number;
  pad: number;
}

const CASES: Case[] = [
  { shape: [2, 9, 9, 5], k: 3, s: 2, pad: 1 }, // ResNet18's pool, odd input
  { shape: [1, 8, 8, 40], k: 3, s: 2, pad: 1 },
  { shape: [1, 8, 7, 3], k: 2, s: 2, pad: 0 },
  { shape: [2, 6, 6, 4], k: 3, s: 1, pad: 1 }, // overlapping windows: repeated hits add up
];

/** PyTorch's max_pool2d backward, written plainly: first maximum in window order, scatter-add per output. */
function referenceDx(x: Float32Array, dy: Float32Array, c: Case): Float32Array {
  const [N, H, W, C] = c.shape;
  const Ho = Math.floor((H + 2 * c.pad - c.k) / c.s) + 1;
  const Wo = Math.floor((W + 2 * c.pad - c.k) / c.s) + 1;
  const dx = new Float32Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let ch = 0; ch < C; ch++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let best = -Infinity;
          let at = -1;
          for (let h = oh * c.s - c.pad; h < oh * c.s - c.pad + c.k; h++) {
            for (let w = ow * c.s - c.pad; w < ow * c.s - c.pad + c.k; w++) {
              if (h < 0 || w < 0 || h >= H || w >= W) continue;
              const i = ((n * H + h) * W + w) * C + ch;
              if (at < 0) at = i;
              if (x[i]! > best) {
                best = x[i]!;
                at = i;
              }
            }
          }
          dx[at] = Math.fround(dx[at]! + dy[((n * Ho + oh) * Wo + ow) * C + ch]!);
        }
      }
    }
  }
  return dx;
}

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
