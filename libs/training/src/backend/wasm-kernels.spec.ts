// The convolution kernels of both CPU paths against the plain JS cpu backend: our wasm kernels
// (gradients as forward convolutions), and the native oneDNN kernels (forward, fused eval conv,
// both gradients), on awkward shapes. The native path is skipped only when FLEET_NATIVE=0.
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';
import { CPU_PATHS } from '../train/testing/cpu-paths.js';
import { maxRelErr } from '../train/testing/max-rel-err.js';

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: number | 'same';
}

function padOf(c: Case): tf.backend_util.ExplicitPadding | 'same' {
  return c.pad === 'same' ? 'same' : [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]];
}

const CASES: Case[] = [
  { n: 2, h: 9, w: 8, ci: 3, co: 4, k: 3, stride: 1, pad: 1 },
  { n: 2, h: 9, w: 9, ci: 3, co: 5, k: 3, stride: 2, pad: 1 },
  { n: 2, h: 8, w: 8, ci: 4, co: 6, k: 3, stride: 2, pad: 1 },
  { n: 1, h: 7, w: 7, ci: 4, co: 3, k: 1, stride: 2, pad: 0 },
  { n: 2, h: 8, w: 8, ci: 4, co: 3, k: 1, stride: 1, pad: 0 },
  { n: 2, h: 16, w: 15, ci: 3, co: 4, k: 7, stride: 2, pad: 3 },
  // Stride-2 input gradients go by output phase: even/odd sizes, no padding, a 1x1 filter whose
  // odd phases get no tap, more channels than one 32-wide transpose tile.
  { n: 2, h: 8, w: 8, ci: 5, co: 7, k: 1, stride: 2, pad: 0 },
  { n: 1, h: 10, w: 7, ci: 3, co: 4, k: 3, stride: 2, pad: 0 },
  { n: 1, h: 2, w: 2, ci: 3, co: 4, k: 3, stride: 2, pad: 1 },
  { n: 1, h: 6, w: 6, ci: 40, co: 36, k: 3, stride: 2, pad: 1 },
  { n: 1, h: 5, w: 5, ci: 3, co: 2, k: 4, stride: 3, pad: 2 },
  // TF 'same' at stride 2: asymmetric padding (more at the bottom/right)
  { n: 2, h: 9, w: 10, ci: 3, co: 5, k: 3, stride: 2, pad: 'same' },
];

function values(size: number, salt: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + salt) * 0.5);
}

async function gradients(backend: 'cpu' | 'wasm', c: Case): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(c.n * c.h * c.w * c.ci, 1), [c.n, c.h, c.w, c.ci]);
  const w = tf.tensor4d(values(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
  const pad = padOf(c);
  // A non-uniform upstream gradient, so every dy element matters.
  const f = (...[a, b]: tf.Tensor[]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, pad).mul(tf.linspace(0.5, 1.5, c.co)).sum();
  const [dx, dw] = tf.grads(f)([x, w]);
  const result = { dx: (await dx!.data()) as Float32Array, dw: (await dw!.data()) as Float32Array };
  tf.dispose([x, w, dx!, dw!]);
  return result;
}

/** Forward conv, and the eval path's fused conv + bias + ReLU, on one backend. */
async function forwards(backend: 'cpu' | 'wasm', c: Case): Promise<{ y: Float32Array; fused: Float32Array }> {
  await tf.setBackend(backend);
  const [y, fused] = tf.tidy(() => {
    const x = tf.tensor4d(values(c.n * c.h * c.w * c.ci, 3), [c.n, c.h, c.w, c.ci]);
    const w = tf.tensor4d(values(c.k * c.k * c.ci * c.co, 4), [c.k, c.k, c.ci, c.co]);
    const bias = tf.tensor1d(values(c.co, 5));
    return [tf.conv2d(x, w, c.stride, padOf(c)), tf.fused.conv2d({ x, filter: w, strides: c.stride, pad: padOf(c), bias, activation: 'relu' })];
  });
  const result = { y: (await y.data()) as Float32Array, fused: (await fused.data()) as Float32Array };
  tf.dispose([y, fused]);
  return result;
}

describe.each(CPU_PATHS)('%s training kernels', (path) => {
  beforeAll(async () => {
    await initBackend(path);
  });

  it.each(CASES)('conv2d forward and fused conv + bias + relu match the cpu backend: %o', async (c) => {
    const ref = await forwards('cpu', c);
    const got = await forwards('wasm', c);
    expect(got.y.length).toBe(ref.y.length);
    expect(maxRelErr(got.y, ref.y)).toBeLessThan(1e-5);
    expect(maxRelErr(got.fused, ref.fused)).toBeLessThan(1e-5);
  });

  it.each(CASES)('conv2d gradients match the cpu backend: %o', async (c) => {
    const ref = await gradients('cpu', c);
    const got = await gradients('wasm', c);
    expect(got.dx.length).toBe(ref.dx.length);
    expect(got.dw.length).toBe(ref.dw.length);
    expect(maxRelErr(got.dx, ref.dx)).toBeLessThan(1e-5);
    expect(maxRelErr(got.dw, ref.dw)).toBeLessThan(1e-5);
  });

  it.each([CASES[1]!, CASES[3]!])('frees every intermediate it creates: %o', async (c) => {
    await tf.setBackend('wasm');
    await gradients('wasm', c);
    const before = tf.memory().numTensors;
    const bytesBefore = (tf.memory() as { numBytesInWASM?: number }).numBytesInWASM;
    await gradients('wasm', c);
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.memory() as { numBytesInWASM?: number }).numBytesInWASM).toBe(bytesBefore);
  });
});
