// MaxPoolGrad for the wasm backend with PyTorch's semantics, as one pass over the wasm heap.
// tfjs-backend-wasm's own kernel is a scalar loop (~480 ms for ResNet18's 3x3/2 pool at 224/b16,
// 60x its forward pool, 6% of a training step) and picks the LAST maximum of a window (>=),
// starting from the smallest positive float, so windows whose values are all <= 0 route their
// gradient nowhere. PyTorch (max_pool2d_with_indices): the FIRST maximum in row-major window order
// (strict >, from -inf; a NaN always wins), and the gradient is scattered output by output in
// row-major order, so repeated hits on one input add up in that order (float32 adds, as here).
import type { WasmHeapBackend } from './wasm-kernels.js';
import { tf } from './tf.js';

interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGrad({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw } = info;
  const { effectiveFilterHeight: kh, effectiveFilterWidth: kw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const heap = backend as unknown as WasmHeapBackend;
  const dxInfo = heap.makeOutput([N, H, W, C], 'float32');
  // Views after the last allocation: a growing wasm heap detaches older ones.
  const x = heap.typedArrayFromHeap(input);
  const g = heap.typedArrayFromHeap(dy);
  const dx = heap.typedArrayFromHeap(dxInfo);
  dx.fill(0);
  const maxValue = new Float64Array(C);
  const maxIndex = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      let h0 = oh * sh - top;
      const h1 = Math.min(H, h0 + kh);
      while (h0 < 0) h0 += dh;
      for (let ow = 0; ow < Wo; ow++) {
        let w0 = ow * sw - left;
        const w1 = Math.min(W, w0 + kw);
        while (w0 < 0) w0 += dw;
        if (h0 >= h1 || w0 >= w1) continue; // a window entirely in the padding (not with pad < kernel)
        // PyTorch starts from the window's first position, so a window of -inf still routes there.
        const first = ((n * H + h0) * W + w0) * C;
        maxValue.fill(-Infinity);
        for (let c = 0; c < C; c++) maxIndex[c] = first + c;
        for (let h = h0; h < h1; h += dh) {
          for (let w = w0; w < w1; w += dw) {
            const base = ((n * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c]!;
              if (v > maxValue[c]! || v !== v) {
                maxValue[c] = v;
                maxIndex[c] = base + c;
              }
            }
          }
        }
        const out = ((n * Ho + oh) * Wo + ow) * C;
        for (let c = 0; c < C; c++) dx[maxIndex[c]!]! += g[out + c]!;
      }
    }
  }
  return dxInfo;
}
