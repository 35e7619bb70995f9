// Test support: PyTorch's max_pool2d backward written plainly, and the awkward shapes every
// MaxPoolGrad kernel of ours (wasm, webgpu) is checked on.
export interface MaxPoolCase {
  shape: [number, number, number, number];
  k: number;
  s: number;
  pad: number;
}

export const MAX_POOL_CASES: MaxPoolCase[] = [
  { shape: [2, 9, 9, 5], k: 3, s: 2, pad: 1 }, // ResNet18's pool, odd input
  { shape: [1, 8, 8, 40], k: 3, s: 2, pad: 1 },
  { shape: [1, 8, 7, 3], k: 2, s: 2, pad: 0 },
  { shape: [2, 6, 6, 4], k: 3, s: 1, pad: 1 }, // overlapping windows: repeated hits add up
];

/** PyTorch's max_pool2d backward, written plainly: first maximum in window order, scatter-add per output. */
export function maxPoolReferenceDx(x: Float32Array, dy: Float32Array, c: MaxPoolCase): Float32Array {
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
