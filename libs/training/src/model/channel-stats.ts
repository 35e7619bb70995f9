// Per-channel reductions of NHWC activations over N, H and W, for BatchNorm. On wasm they run as
// one sequential pass over the activations in the wasm heap: tfjs-backend-wasm's Mean and Sum over
// axes [0, 1, 2] first transpose the whole tensor to channels-outermost (a slow generic permute,
// 11% of a 224/b16 training step for BatchNorm's four reductions).
// The arithmetic is tfjs's own, bit for bit: float32 values summed in order per channel (a
// Float32Array accumulator rounds every partial sum to float32 — exact float32 addition, as
// double-then-float rounding is innocuous for + and x), so results equal tf.moments / tf.sum on
// wasm and the PyTorch parity fixtures still hold to the same digits. On webgpu: our in-place
// channel reductions (backend/webgpu-kernels/channel-sums.ts), not tfjs's transpose-then-reduce.
// Other backends use tf's ops.
import { tf } from '../backend/tf.js';
import type { WasmHeapBackend } from '../backend/wasm-kernels.js';
import { webgpuChannelGradSums, webgpuChannelMoments } from '../backend/webgpu-kernels/channel-sums.js';
import { webgpuTrainingKernelsActive } from '../backend/webgpu-kernels/register-webgpu-kernels.js';

function wasmHeap(): WasmHeapBackend | undefined {
  return tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeapBackend) : undefined;
}

const { fround } = Math;

/** Mean and biased variance per channel, as tf.moments(x, [0, 1, 2]) computes them. */
export function channelMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (webgpuTrainingKernelsActive()) return webgpuChannelMoments(x);
  const heap = wasmHeap();
  if (!heap) return tf.moments(x, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
  const channels = x.shape[3];
  // The heap view is read before any tensor is made: an allocation may grow (and detach) the heap.
  const data = heap.typedArrayFromHeap(x);
  const count = data.length / channels;
  const mean = new Float32Array(channels);
  for (let k = 0; k < data.length; k += channels) for (let c = 0; c < channels; c++) mean[c]! += data[k + c]!;
  for (let c = 0; c < channels; c++) mean[c]! /= count;
  // variance = mean(square(x - mean)), each step rounded to float32 like the kernels it replaces.
  const variance = new Float32Array(channels);
  for (let k = 0; k < data.length; k += channels) {
    for (let c = 0; c < channels; c++) {
      const d = fround(data[k + c]! - mean[c]!);
      variance[c]! += fround(d * d);
    }
  }
  for (let c = 0; c < channels; c++) variance[c]! /= count;
  return { mean: tf.tensor1d(mean), variance: tf.tensor1d(variance) };
}

/** Per channel: sum(dy) and sum(dy * xc), as tf.sum(dy, [0,1,2]) and tf.sum(tf.mul(dy, xc), [0,1,2]). */
export function channelGradSums(dy: tf.Tensor4D, xc: tf.Tensor4D): { dySum: tf.Tensor1D; dyXcSum: tf.Tensor1D } {
  if (webgpuTrainingKernelsActive()) return webgpuChannelGradSums(dy, xc);
  const heap = wasmHeap();
  if (!heap) return tf.tidy(() => ({ dySum: tf.sum(dy, [0, 1, 2]) as tf.Tensor1D, dyXcSum: tf.sum(tf.mul(dy, xc), [0, 1, 2]) as tf.Tensor1D }));
  const channels = dy.shape[3];
  const g = heap.typedArrayFromHeap(dy);
  const v = heap.typedArrayFromHeap(xc);
  const dySum = new Float32Array(channels);
  const dyXcSum = new Float32Array(channels);
  for (let k = 0; k < g.length; k += channels) {
    for (let c = 0; c < channels; c++) {
      const gi = g[k + c]!;
      dySum[c]! += gi;
      dyXcSum[c]! += fround(gi * v[k + c]!);
    }
  }
  return { dySum: tf.tensor1d(dySum), dyXcSum: tf.tensor1d(dyXcSum) };
}
