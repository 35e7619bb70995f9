// Training kernels for the wasm backend. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at
// all, and its Conv2DBackpropInput is a scalar loop ~10x slower than its XNNPACK forward conv. Both
// gradients are rewritten here as FORWARD convolutions (the one fast primitive wasm has), composed
// from the wasm backend's own kernels so no data leaves the wasm heap:
//  - filter gradient: conv of x^T [Ci,H,W,N] with dy^T [Ho,Wo,N,Co] as the filter, dilation = the
//    forward stride, explicit pads; result [Ci,kh,kw,Co] -> [kh,kw,Ci,Co].
//  - input gradient: conv of dy (zero-inserted between rows/cols when strided) with the spatially
//    flipped, in/out-transposed filter, pads k-1-pad.
// Never used on other backends; verified against the cpu backend in wasm-kernels.spec.ts.
import { tf } from './tf.js';

type Info = tf.TensorInfo;
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}
interface Conv2DBackpropInputAttrs extends Omit<Conv2DBackpropFilterAttrs, 'filterShape'> {
  inputShape: [number, number, number, number];
}

class KernelRunner {
  private readonly temps: Info[] = [];
  constructor(private readonly backend: tf.KernelBackend) {}

  /** Runs a registered wasm kernel; its output is freed by dispose() unless returned via keep(). */
  run(name: string, inputs: Record<string, Info>, attrs: object = {}): Info {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`wasm kernel ${name} is not registered`);
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as Info;
    this.temps.push(out);
    return out;
  }

  /** Frees `info` with the other temporaries. */
  adopt(info: Info): void {
    this.temps.push(info);
  }

  keep(info: Info): Info {
    const i = this.temps.indexOf(info);
    if (i >= 0) this.temps.splice(i, 1);
    return info;
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  conv(x: Info, filter: Info, pad: Pad4, dilations: [number, number] = [1, 1]): Info {
    return this.run('Conv2D', { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    return this.run('Slice', { x }, { begin, size });
  }
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): Info;
  typedArrayFromHeap(info: Info): Float32Array;
}

/**
 * W[kh,kw,Ci,Co] -> W'[kh,kw,Co,Ci] spatially flipped, in one pass over the wasm heap. wasm's
 * Reverse kernel is a slow generic loop (~0.4 s for a 3x3x512x512 filter on this machine, more
 * than the convolution it feeds).
 */
function flipTransposeFilter(backend: WasmHeapBackend, filter: Info): Info {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  const plane = ci * co;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s0 = (i * kw + j) * plane;
      const d0 = ((kh - 1 - i) * kw + (kw - 1 - j)) * plane;
      for (let c = 0; c < ci; c++) {
        const sRow = s0 + c * co;
        for (let o = 0; o < co; o++) dst[d0 + o * ci + c] = src[sRow + o]!;
      }
    }
  }
  return out;
}

function convInfo(inputShape: [number, number, number, number], filterShape: [number, number, number, number], attrs: Conv2DBackpropFilterAttrs | Conv2DBackpropInputAttrs) {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`wasm training kernels support NHWC only, got ${attrs.dataFormat}`);
  return tf.backend_util.computeConv2DInfo(inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = convInfo(x.shape as [number, number, number, number], a.filterShape, a);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = info;
  const { top, left } = info.padInfo;
  const r = new KernelRunner(backend);
  try {
    const xt = r.transpose(x, [3, 1, 2, 0]); // [Ci,H,W,N]
    const dyt = r.transpose(dy, [1, 2, 0, 3]); // [Ho,Wo,N,Co]
    // Pads chosen so the output is exactly kh x kw; when the forward conv dropped trailing rows
    // (floor), the surplus is cut off by the slice below.
    const bottom = kh + (Ho - 1) * sh - H - top;
    const right = kw + (Wo - 1) * sw - W - left;
    const out = r.conv(xt, dyt, [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]], [sh, sw]);
    const cut = bottom < 0 || right < 0 ? r.slice(out, [0, 0, 0, 0], [out.shape[0]!, kh, kw, out.shape[3]!]) : out;
    return r.keep(r.transpose(cut, [1, 2, 0, 3]));
  } finally {
    r.dispose();
  }
}

function conv2DBackpropInput({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const a = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = convInfo(a.inputShape, filter.shape as [number, number, number, number], a);
  const { batchSize: N, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { top, left } = info.padInfo;
  const r = new KernelRunner(backend);
  try {
    let src = dy;
    if (sh > 1 || sw > 1) {
      // Zero-insert: [N,Ho,1,Wo,1,Co] padded to [N,Ho,sh,Wo,sw,Co] -> [N,Ho*sh,Wo*sw,Co].
      const expanded = r.reshape(dy, [N, Ho, 1, Wo, 1, Co]);
      const padded = r.run('PadV2', { x: expanded }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
      src = r.reshape(padded, [N, Ho * sh, Wo * sw, Co]);
    }
    const wt = flipTransposeFilter(backend as unknown as WasmHeapBackend, filter); // [kh,kw,Co,Ci]
    r.adopt(wt);
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = H - Ho * sh + top;
    const padRight = W - Wo * sw + left;
    if (padTop < 0 || padLeft < 0) throw new Error(`conv2DBackpropInput: padding larger than the filter is not supported (pad ${top}, filter ${kh})`);
    const out = r.conv(src, wt, [[0, 0], [padTop, Math.max(0, padBottom)], [padLeft, Math.max(0, padRight)], [0, 0]]);
    const cut = padBottom < 0 || padRight < 0 ? r.slice(out, [0, 0, 0, 0], [N, H, W, out.shape[3]!]) : out;
    return r.keep(cut);
  } finally {
    r.dispose();
  }
}

let registered = false;

/** Registers (idempotently) the engine's Conv2DBackpropFilter / Conv2DBackpropInput for 'wasm'. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropFilter', conv2DBackpropFilter],
    ['Conv2DBackpropInput', conv2DBackpropInput],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  registered = true;
}
