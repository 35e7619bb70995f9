// Training kernels for the wasm backend. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at
// all, and its Conv2DBackpropInput is a scalar loop ~10x slower than its XNNPACK forward conv. Both
// gradients are rewritten here as FORWARD convolutions (the one fast primitive wasm has), composed
// from the wasm backend's own kernels so no data leaves the wasm heap:
//  - filter gradient: conv of x^T [Ci,H,W,N] with dy^T [Ho,Wo,N,Co] as the filter, dilation = the
//    forward stride, explicit pads; result [Ci,kh,kw,Co] -> [kh,kw,Ci,Co].
//  - input gradient: conv of dy with the spatially flipped, in/out-transposed filter, pads k-1-pad.
//    Strided: split by output phase (polyphase) instead of convolving a zero-inserted dy: the dx
//    rows/cols of one residue mod the stride receive only the filter taps of one residue, so each
//    phase is a dense conv of dy with that sub-filter, and the phases interleave into dx. Same sums,
//    a quarter of the multiply-adds of the zero-inserted form at stride 2.
// MaxPoolGrad (PyTorch's first-maximum routing, one heap pass) is in wasm-max-pool-grad.ts.
// Never used on other backends; verified against the cpu backend in wasm-kernels.spec.ts.
import { tf } from './tf.js';
import { maxPoolGrad } from './wasm-max-pool-grad.js';

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

export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32' | 'bool'): Info;
  typedArrayFromHeap(info: Info): Float32Array;
}

/**
 * The taps ky = ry + sh*t, kx = rx + sw*u of W[kh,kw,Ci,Co] (all taps at stride 1), spatially
 * flipped and in/out-transposed: G[Ty,Tx,Co,Ci], one pass over the wasm heap. wasm's Reverse
 * kernel is a slow generic loop (~0.4 s for a 3x3x512x512 filter on this machine, more than the
 * convolution it feeds); the transpose goes in 32x32 tiles so neither side of the copy strides
 * through memory a float at a time.
 */
function flippedTransposedTaps(backend: WasmHeapBackend, filter: Info, ry: number, rx: number, sh: number, sw: number): Info {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const ty = Math.ceil((kh - ry) / sh);
  const tx = Math.ceil((kw - rx) / sw);
  const out = backend.makeOutput([ty, tx, co, ci], 'float32');
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  const plane = ci * co;
  const TILE = 32;
  for (let t = 0; t < ty; t++) {
    for (let u = 0; u < tx; u++) {
      const s0 = ((ry + sh * (ty - 1 - t)) * kw + (rx + sw * (tx - 1 - u))) * plane;
      const d0 = (t * tx + u) * plane;
      for (let cb = 0; cb < ci; cb += TILE) {
        const ce = Math.min(ci, cb + TILE);
        for (let ob = 0; ob < co; ob += TILE) {
          const oe = Math.min(co, ob + TILE);
          for (let o = ob; o < oe; o++) {
            const dRow = d0 + o * ci;
            for (let c = cb; c < ce; c++) dst[dRow + c] = src[s0 + c * co + o]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * x [N,H,W,C] -> [C,rows,cols,N] taking every sh-th row and sw-th column (all of them at stride 1):
 * the filter gradient's channels-first, batch-last input, in 16x16 tiles over the wasm heap.
 * wasm's Transpose does [3,1,2,0] with a generic loop ~3x slower (23 ms for 16x56x56x64 here).
 */
function batchLastChannelsFirst(heap: WasmHeapBackend, x: Info, rows: number, cols: number, sh = 1, sw = 1): Info {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const out = heap.makeOutput([C, rows, cols, N], 'float32');
  const src = heap.typedArrayFromHeap(x);
  const dst = heap.typedArrayFromHeap(out);
  const TILE = 16;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const pixel = i * cols + j;
      const srcPixel = i * sh * W + j * sw;
      for (let n0 = 0; n0 < N; n0 += TILE) {
        const n1 = Math.min(N, n0 + TILE);
        for (let c0 = 0; c0 < C; c0 += TILE) {
          const c1 = Math.min(C, c0 + TILE);
          for (let c = c0; c < c1; c++) {
            const d = (c * rows * cols + pixel) * N;
            for (let n = n0; n < n1; n++) dst[d + n] = src[(n * H * W + srcPixel) * C + c]!;
          }
        }
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
    const heap = backend as unknown as WasmHeapBackend;
    const dyt = r.transpose(dy, [1, 2, 0, 3]); // [Ho,Wo,N,Co]
    if (kh === 1 && kw === 1 && top === 0 && left === 0) {
      // Pointwise: only the pixels the forward conv read matter, so take them (a quarter of x at
      // stride 2) and the gradient is a plain [Ci,Ho,Wo,N] x [Ho,Wo,N,Co] contraction.
      const xs = batchLastChannelsFirst(heap, x, Ho, Wo, sh, sw);
      r.adopt(xs);
      return r.keep(r.reshape(r.conv(xs, dyt, [[0, 0], [0, 0], [0, 0], [0, 0]]), [1, 1, xs.shape[0]!, dyt.shape[3]!]));
    }
    const xt = batchLastChannelsFirst(heap, x, H, W); // [Ci,H,W,N]
    r.adopt(xt);
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
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  if (top > kh - 1 || left > kw - 1) throw new Error(`conv2DBackpropInput: padding larger than the filter is not supported (pad ${top}, filter ${kh})`);
  const heap = backend as unknown as WasmHeapBackend;
  const r = new KernelRunner(backend);
  try {
    if (sh > 1 || sw > 1) return stridedInputGradient(r, heap, dy, filter, info);
    const dx = phaseGradient(r, heap, dy, filter, info, 0, 0);
    if (!dx) throw new Error(`conv2DBackpropInput: empty input gradient for input ${info.inHeight}x${info.inWidth}`);
    return r.keep(dx);
  } finally {
    r.dispose();
  }
}

type ConvInfo = ReturnType<typeof convInfo>;

/**
 * The input gradient at the dx rows y = py + sh*i and cols x = px + sw*j: [N, ceil((H-py)/sh),
 * ceil((W-px)/sw), Ci] (all of dx at stride 1). Those rows receive dy[m] through the taps
 * ky = (py+top) mod sh + sh*t only, with m = (py+top) div sh + i - t: a dense correlation of dy
 * with the flipped tap subset. Returns undefined when no tap reaches the phase (a 1x1 stride-2
 * conv never touches the odd rows).
 */
function phaseGradient(r: KernelRunner, heap: WasmHeapBackend, dy: Info, filter: Info, info: ConvInfo, py: number, px: number): Info | undefined {
  const { batchSize: N, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { top, left } = info.padInfo;
  const rows = Math.ceil((H - py) / sh);
  const cols = Math.ceil((W - px) / sw);
  const ry = (py + top) % sh;
  const rx = (px + left) % sw;
  const ty = Math.ceil((kh - ry) / sh);
  const tx = Math.ceil((kw - rx) / sw);
  if (ty <= 0 || tx <= 0 || rows <= 0 || cols <= 0) return undefined;
  // Output row i reads dy rows m0 + i - (ty-1) .. m0 + i: pad (or crop) dy so row i starts there.
  const padTop = ty - 1 - Math.floor((py + top) / sh);
  const padLeft = tx - 1 - Math.floor((px + left) / sw);
  let src = dy;
  if (padTop < 0 || padLeft < 0) src = r.slice(dy, [0, Math.max(0, -padTop), Math.max(0, -padLeft), 0], [N, Ho - Math.max(0, -padTop), Wo - Math.max(0, -padLeft), Co]);
  const srcRows = src.shape[1]!;
  const srcCols = src.shape[2]!;
  const top0 = Math.max(0, padTop);
  const left0 = Math.max(0, padLeft);
  const padBottom = Math.max(0, rows + ty - 1 - top0 - srcRows);
  const padRight = Math.max(0, cols + tx - 1 - left0 - srcCols);
  const taps = flippedTransposedTaps(heap, filter, ry, rx, sh, sw); // [ty,tx,Co,Ci]
  r.adopt(taps);
  const out = r.conv(src, taps, [[0, 0], [top0, padBottom], [left0, padRight], [0, 0]]);
  if (out.shape[1] === rows && out.shape[2] === cols) return out;
  return r.slice(out, [0, 0, 0, 0], [N, rows, cols, out.shape[3]!]);
}

/** Strided input gradient: every output phase separately, interleaved into dx [N,H,W,Ci]. */
function stridedInputGradient(r: KernelRunner, heap: WasmHeapBackend, dy: Info, filter: Info, info: ConvInfo): Info {
  const { batchSize: N, strideHeight: sh, strideWidth: sw, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const phases: { py: number; px: number; grad: Info | undefined }[] = [];
  for (let py = 0; py < sh; py++) for (let px = 0; px < sw; px++) phases.push({ py, px, grad: phaseGradient(r, heap, dy, filter, info, py, px) });
  const dx = heap.makeOutput([N, H, W, Ci], 'float32');
  // Heap views are taken after the last allocation: a growing wasm heap detaches older ones.
  const out = heap.typedArrayFromHeap(dx);
  if (phases.some((p) => p.grad === undefined)) out.fill(0);
  for (const { py, px, grad } of phases) {
    if (!grad) continue;
    const src = heap.typedArrayFromHeap(grad);
    const rows = grad.shape[1]!;
    const cols = grad.shape[2]!;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < rows; i++) {
        const srcRow = (n * rows + i) * cols * Ci;
        const dstRow = (n * H + py + sh * i) * W;
        for (let j = 0; j < cols; j++) {
          const s0 = srcRow + j * Ci;
          const d0 = (dstRow + px + sw * j) * Ci;
          for (let c = 0; c < Ci; c++) out[d0 + c] = src[s0 + c]!;
        }
      }
    }
  }
  return dx;
}

/**
 * Identity that shares the input's buffer (a reference count), as tfjs's cpu backend does. wasm's
 * own copies the data, and tfjs clones every tensor an op saves for its gradient: a training step
 * copied each saved activation once more (~4% of a native step, and as many extra bytes of heap).
 * Tensors are immutable and every kernel writes a fresh output, so sharing cannot be observed.
 */
function sharedIdentity({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): Info {
  const { x } = inputs as { x: Info };
  if (x.dtype === 'string') throw new Error('Identity of string tensors is not used by the engine');
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let registered = false;

/** Registers (idempotently) the engine's Conv2DBackpropFilter / Conv2DBackpropInput / MaxPoolGrad / Identity for 'wasm'. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropFilter', conv2DBackpropFilter],
    ['Conv2DBackpropInput', conv2DBackpropInput],
    ['MaxPoolGrad', maxPoolGrad],
    ['Identity', sharedIdentity],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  registered = true;
}
