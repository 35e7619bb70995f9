// Our webgpu convolution kernels (forward, fused bias+ReLU, input and filter gradients) against the
// cpu backend on awkward shapes: batch 1, odd sizes, stride 2, 1x1 and 7x7 filters, channel counts
// that are not multiples of the 64-wide tiles, the 3-channel stem path, the short 16-row tile, and
// split-K (filter gradients; input gradients of few output tiles).
// lavapipe in CI; with CI=true a missing adapter fails, elsewhere the suite is skipped.
import { tf } from '../tf.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from '../webgpu-backend.js';
import { axisPhase, filterGradSplits } from './conv2d-gemm.js';
import { takeWebgpuKernelUse } from './register-webgpu-kernels.js';

const LAVAPIPE_TIMEOUT_MS = 300_000;
const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu kernel tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: number;
}

const CASES: Case[] = [
  { n: 2, h: 16, w: 15, ci: 3, co: 8, k: 7, stride: 2, pad: 3 }, // the stem's 7x7/2 on 3 channels
  { n: 1, h: 9, w: 7, ci: 5, co: 6, k: 3, stride: 1, pad: 1 },
  { n: 1, h: 9, w: 9, ci: 70, co: 66, k: 3, stride: 2, pad: 1 }, // channels past one 64-wide tile
  { n: 2, h: 7, w: 7, ci: 9, co: 5, k: 1, stride: 2, pad: 0 }, // 1x1/2: odd phases get no tap
  { n: 2, h: 6, w: 6, ci: 4, co: 3, k: 1, stride: 1, pad: 0 },
  { n: 1, h: 10, w: 7, ci: 3, co: 4, k: 3, stride: 2, pad: 0 },
  { n: 1, h: 5, w: 5, ci: 3, co: 2, k: 4, stride: 3, pad: 2 },
  { n: 2, h: 22, w: 21, ci: 4, co: 3, k: 3, stride: 1, pad: 1 }, // long reduction: split-K
  // 16 output pixels: the short row tile (layer4 at batch 1), and input gradient split-K
  { n: 1, h: 4, w: 4, ci: 64, co: 70, k: 3, stride: 1, pad: 1 },
  { n: 1, h: 7, w: 7, ci: 40, co: 160, k: 3, stride: 2, pad: 1 }, // split-K over the 4 stride phases of dx
];

function values(size: number, salt: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + salt) * 0.5);
}

interface Results {
  y: Float32Array;
  fused: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

async function read(backend: 'cpu' | 'webgpu', c: Case): Promise<Results> {
  // dataSync() throws on webgpu in Node: read asynchronously.
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(c.n * c.h * c.w * c.ci, 1), [c.n, c.h, c.w, c.ci]);
  const w = tf.tensor4d(values(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
  const bias = tf.tensor1d(values(c.co, 3));
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]];
  const y = tf.conv2d(x, w, c.stride, pad);
  const fused = tf.fused.conv2d({ x, filter: w, strides: c.stride, pad, bias, activation: 'relu' });
  const dy = tf.tensor4d(values(y.size, 4), y.shape);
  const dx = tf.conv2dTranspose(dy, w, x.shape, c.stride, pad);
  const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.stride, pad, dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor;
  const [ry, rf, rdx, rdw] = (await Promise.all([y, fused, dx, dw].map((t) => t.data()))) as Float32Array[];
  tf.dispose([x, w, bias, y, fused, dy, dx, dw]);
  return { y: ry!, fused: rf!, dx: rdx!, dw: rdw! };
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let err = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

describe('axisPhase', () => {
  it('covers every input row exactly once with the taps that reach it', () => {
    for (const [size, kernel, stride, pad] of [[7, 1, 2, 0], [9, 3, 2, 1], [10, 3, 2, 0], [16, 7, 2, 3], [5, 4, 3, 2]] as const) {
      const seen = new Array<number>(size).fill(0);
      for (let a = 0; a < stride; a++) {
        const p = axisPhase(a, size, kernel, stride, pad);
        for (let i = 0; i < p.rows; i++) {
          const y = p.first + stride * i;
          seen[y]!++;
          expect((y + pad) % stride).toBe(a);
          for (let t = 0; t < p.taps; t++) expect(stride * (p.base + i - t)).toBe(y + pad - (a + stride * t));
        }
      }
      expect(seen).toEqual(new Array<number>(size).fill(1));
    }
  });
});

describe('filterGradSplits', () => {
  const info = (n: number, side: number, ci: number, co: number, k: number) =>
    tf.backend_util.computeConv2DInfo([n, side, side, ci], [k, k, ci, co], 1, 1, 'same', undefined, false, 'channelsLast');

  it('splits a long reduction over few outputs (the stem) and never needs scratch beyond the limit', () => {
    const stem = info(16, 112, 3, 64, 7);
    expect(filterGradSplits(stem, 16 * 224 * 224 * 3)).toBeGreaterThan(100);
    expect(filterGradSplits(stem, 7 * 7 * 3 * 64)).toBe(1);
  });

  it('does not split a short reduction', () => {
    expect(filterGradSplits(info(1, 7, 512, 512, 3), 1e9)).toBe(1);
  });
});

(webgpu || inCi ? describe : describe.skip)('webgpu convolution kernels against the cpu backend', () => {
  beforeAll(() => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    takeWebgpuKernelUse();
  });
  afterEach(() => assertNoWebgpuErrors());

  const label = (c: Case) => `batch ${c.n}, ${c.h}x${c.w}x${c.ci} -> ${c.co}, ${c.k}x${c.k}/${c.stride} pad ${c.pad}`;
  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, c) => {
    const want = await read('cpu', c);
    const got = await read('webgpu', c);
    const use = takeWebgpuKernelUse();
    // Ours ran for all four kernels, not tfjs's: a kernel that did nothing would fail the comparison.
    expect(use.stock).toEqual({ Conv2D: 0, FusedConv2D: 0, Conv2DBackpropInput: 0, Conv2DBackpropFilter: 0, MaxPoolGrad: 0 });
    expect(use.ours).toEqual({ Conv2D: 1, FusedConv2D: 1, Conv2DBackpropInput: 1, Conv2DBackpropFilter: 1, MaxPoolGrad: 0 });
    expect(maxRelErr(got.y, want.y)).toBeLessThan(1e-5);
    expect(maxRelErr(got.fused, want.fused)).toBeLessThan(1e-5);
    expect(maxRelErr(got.dx, want.dx)).toBeLessThan(1e-5);
    expect(maxRelErr(got.dw, want.dw)).toBeLessThan(1e-5);
  }, LAVAPIPE_TIMEOUT_MS);
});
