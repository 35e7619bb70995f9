// MaxPoolGrad on webgpu with PyTorch's routing (the semantics of wasm-max-pool-grad.ts): each
// window's gradient goes to its FIRST maximum in row-major order (strict >, a NaN takes over), and
// an input hit by several windows sums their gradients in output row-major order. Written as a
// gather, one invocation per input element: it visits the (at most ceil(k/s)^2) windows that
// contain its pixel in that order, finds each window's first maximum and adds the window's dy when
// that is itself. No atomics, no zero-fill pass, deterministic.
import { tf } from '../tf.js';
import { flatLayout, type WebgpuBackendInternals, type WebgpuProgram } from './webgpu-program.js';

type Pool2DInfo = tf.backend_util.Conv2DInfo;

const THREADS = 256;

export function maxPoolGradProgram(info: Pool2DInfo): WebgpuProgram {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const { effectiveFilterHeight: kh, effectiveFilterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const size = n * h * w * c;
  const outputShape = [n, h, w, c];
  return {
    outputShape,
    shaderKey: `fleetMaxPoolGrad_${[n, h, w, c, ho, wo, sh, sw, kh, kw, top, left].join('_')}`,
    dispatchLayout: flatLayout(outputShape),
    dispatch: [Math.ceil(size / THREADS), 1, 1],
    variableNames: ['dyIn', 'xIn'],
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `
  const H = ${h}; const W = ${w}; const C = ${c}; const HO = ${ho}; const WO = ${wo};
  const SH = ${sh}; const SW = ${sw}; const KH = ${kh}; const KW = ${kw}; const PT = ${top}; const PL = ${left};

  // Flat x index of the first maximum of window (oh, ow) of image b, channel ch.
  fn firstMax(b: i32, oh: i32, ow: i32, ch: i32) -> i32 {
    let h0 = max(oh * SH - PT, 0); let h1 = min(oh * SH - PT + KH, H);
    let w0 = max(ow * SW - PL, 0); let w1 = min(ow * SW - PL + KW, W);
    var best = ((b * H + h0) * W + w0) * C + ch;
    var m = -uniforms.INFINITY;
    for (var y = h0; y < h1; y++) {
      for (var x = w0; x < w1; x++) {
        let i = ((b * H + y) * W + x) * C + ch;
        let v = xIn[i];
        if (v > m || v != v) { m = v; best = i; }
      }
    }
    return best;
  }

  fn main(index: i32) {
    let i = i32(workgroupId.x) * ${THREADS} + i32(localIndex);
    if (i >= ${size}) { return; }
    let ch = i % C; let p = i / C; let x = p % W; let q = p / W; let y = q % H; let b = q / H;
    // windows oh with oh*SH - PT <= y < oh*SH - PT + KH, likewise ow
    let ohFirst = max(0, (y + PT - KH + SH) / SH); let ohLast = min(HO - 1, (y + PT) / SH);
    let owFirst = max(0, (x + PL - KW + SW) / SW); let owLast = min(WO - 1, (x + PL) / SW);
    var s = 0.0;
    for (var oh = ohFirst; oh <= ohLast; oh++) {
      for (var ow = owFirst; ow <= owLast; ow++) {
        if (firstMax(b, oh, ow, ch) == i) { s += dyIn[((b * HO + oh) * WO + ow) * C + ch]; }
      }
    }
    result[i] = s;
  }`,
  };
}

export function maxPoolGradWebgpu(backend: WebgpuBackendInternals, dy: tf.TensorInfo, input: tf.TensorInfo, info: Pool2DInfo): tf.TensorInfo | undefined {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  if (Math.ceil(tf.util.sizeFromShape(input.shape) / THREADS) > backend.device.limits.maxComputeWorkgroupsPerDimension) return undefined;
  return backend.runWebGPUProgram(maxPoolGradProgram(info), [dy, input], 'float32');
}
