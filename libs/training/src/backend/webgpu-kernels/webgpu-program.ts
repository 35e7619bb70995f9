// The slice of tfjs-backend-webgpu 4.22's internals our kernels use, typed structurally (the
// package ships no declarations). A program is WGSL user code plus a dispatch; the backend's
// runWebGPUProgram prepends the bindings (`result`, one read-only array per variable name, the
// uniforms), caches the pipeline under `shaderKey`, and records the dispatch in its command stream
// like any stock kernel, so our kernels share its buffer pool, deferred submits and error checks.
import type { tf } from '../tf.js';

export interface WebgpuProgram {
  outputShape: number[];
  /** must name every compile-time constant baked into the WGSL: it is the pipeline cache key */
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  /** extra uniform fields, e.g. 'lr : f32, ', filled from runWebGPUProgram's uniform values in order */
  uniforms?: string;
  getUserCode(): string;
}

/** A value for a field of {@link WebgpuProgram.uniforms}. */
export interface ProgramUniform {
  type: 'float32' | 'int32';
  data: number[];
}

export interface WebgpuBackendInternals extends tf.KernelBackend {
  runWebGPUProgram(program: WebgpuProgram, inputs: tf.TensorInfo[], outputDtype: 'float32', uniforms?: ProgramUniform[]): tf.TensorInfo;
  device: { limits: { maxComputeWorkgroupsPerDimension: number } };
}

/** A flat dispatch layout over the output (we index `result` ourselves; tfjs only needs a layout). */
export function flatLayout(outputShape: readonly number[]): { x: number[] } {
  return { x: outputShape.map((_, i) => i) };
}
