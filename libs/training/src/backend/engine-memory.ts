// What the engine's process holds in memory, in one snapshot: TensorFlow.js's own accounting
// (tensors and bytes it tracks), the data buffers the backend still owns, the wasm heap (which
// grows on demand up to 4 GB and never shrinks, so its size is the high-water mark of every run
// this process made) and the process RSS. A long-lived training process reports it after each run
// so growth across runs is visible and the worker can replace the process before it aborts.
import { tf } from './tf.js';

export interface EngineMemory {
  /** tensors tfjs tracks (variables included) */
  numTensors: number;
  /** bytes of those tensors, as tfjs counts them */
  numBytes: number;
  /** data buffers the backend holds (a buffer shared by several tensors counts once) */
  numDataBuffers: number;
  /** size of the wasm backend's linear memory; 0 on other backends */
  wasmHeapBytes: number;
  /** resident set size of the whole process */
  rssBytes: number;
}

interface WasmModuleHolder {
  wasm?: { HEAPU8?: Uint8Array };
}

/** Size of the wasm backend's heap, or 0 when the current backend is not wasm. */
export function wasmHeapBytes(): number {
  if (tf.getBackend() !== 'wasm') return 0;
  return (tf.backend() as unknown as WasmModuleHolder).wasm?.HEAPU8?.length ?? 0;
}

export function engineMemory(): EngineMemory {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes, numDataBuffers: m.numDataBuffers, wasmHeapBytes: wasmHeapBytes(), rssBytes: process.memoryUsage.rss() };
}
