// Registers the engine's training kernels over tfjs-backend-webgpu's stock ones (as wasm-kernels.ts
// does for wasm): Conv2D, FusedConv2D (bias + ReLU, the eval path), Conv2DBackpropInput and
// Conv2DBackpropFilter as implicit GEMMs (conv2d-gemm.ts), and MaxPoolGrad with PyTorch's routing
// (max-pool-grad.ts). A call our kernels do not cover (NCHW,
// dilation, other activations, a dispatch too large) goes to the stock kernel, and is counted, so
// a test can tell that our kernels really ran. Must only be called once the webgpu backend exists.
import { tf } from '../tf.js';
import { conv2dFilterGradient, conv2dForward, conv2dInputGradient, type ConvInfo } from './conv2d-gemm.js';
import { maxPoolGradWebgpu } from './max-pool-grad.js';
import type { WebgpuBackendInternals } from './webgpu-program.js';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  filterShape?: Shape4;
  inputShape?: Shape4;
  filterSize?: [number, number] | number;
}

const KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPoolGrad'] as const;
export type WebgpuTrainingKernel = (typeof KERNELS)[number];

/** How often each kernel ran ours vs fell back to stock since the last reset. */
export interface WebgpuKernelUse {
  ours: Record<WebgpuTrainingKernel, number>;
  stock: Record<WebgpuTrainingKernel, number>;
}

const zero = (): Record<WebgpuTrainingKernel, number> => ({ Conv2D: 0, FusedConv2D: 0, Conv2DBackpropInput: 0, Conv2DBackpropFilter: 0, MaxPoolGrad: 0 });
let use: WebgpuKernelUse = { ours: zero(), stock: zero() };
const stockKernels = new Map<WebgpuTrainingKernel, tf.KernelConfig>();
let oursActive = false;

/**
 * Whether our webgpu kernels are in place and webgpu is the current backend: BatchNorm's channel
 * sums and the SGD update (called directly, not through the kernel registry) follow this switch.
 */
export function webgpuTrainingKernelsActive(): boolean {
  return oursActive && tf.getBackend() === 'webgpu';
}

/** The counts since the last call, then resets them. */
export function takeWebgpuKernelUse(): WebgpuKernelUse {
  const out = use;
  use = { ours: zero(), stock: zero() };
  return out;
}

function convInfo(xShape: Shape4, filterShape: Shape4, attrs: ConvAttrs): ConvInfo | undefined {
  const dilations = attrs.dilations ?? 1;
  if (attrs.dataFormat !== 'NHWC' || (typeof dilations === 'number' ? dilations !== 1 : dilations.some((d) => d !== 1))) return undefined;
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

type Ours = (backend: WebgpuBackendInternals, inputs: Record<string, Info>, attrs: ConvAttrs) => Info | undefined;

const OURS: Record<WebgpuTrainingKernel, Ours> = {
  Conv2D(backend, { x, filter }, attrs) {
    const info = convInfo(x!.shape as Shape4, filter!.shape as Shape4, attrs);
    return info && conv2dForward(backend, x!, filter!, info);
  },
  FusedConv2D(backend, { x, filter, bias, preluActivationWeights }, attrs) {
    const activation = attrs.activation ?? 'linear';
    if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return undefined;
    const info = convInfo(x!.shape as Shape4, filter!.shape as Shape4, attrs);
    if (!info || (bias && tf.util.sizeFromShape(bias.shape) !== info.outChannels)) return undefined;
    return conv2dForward(backend, x!, filter!, info, { bias, relu: activation === 'relu' });
  },
  Conv2DBackpropInput(backend, { dy, filter }, attrs) {
    const info = convInfo(attrs.inputShape!, filter!.shape as Shape4, attrs);
    return info && conv2dInputGradient(backend, dy!, filter!, info);
  },
  Conv2DBackpropFilter(backend, { x, dy }, attrs) {
    const info = convInfo(x!.shape as Shape4, attrs.filterShape!, attrs);
    return info && conv2dFilterGradient(backend, x!, dy!, info);
  },
  MaxPoolGrad(backend, { dy, input }, attrs) {
    const info = tf.backend_util.computePool2DInfo(input!.shape as Shape4, attrs.filterSize!, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    return maxPoolGradWebgpu(backend, dy!, input!, info);
  },
};

function kernelFor(name: WebgpuTrainingKernel, stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const out = OURS[name](args.backend as WebgpuBackendInternals, args.inputs as Record<string, Info>, args.attrs as unknown as ConvAttrs);
    if (out) {
      use.ours[name]++;
      return out;
    }
    use.stock[name]++;
    return stock.kernelFunc(args);
  };
}

/**
 * Puts our kernels (`ours` true, the default) or tfjs's stock ones (false: for bench:train-ops'
 * comparison) in place on the webgpu backend, including the direct-call ones (see
 * webgpuTrainingKernelsActive). Idempotent.
 */
export function useWebgpuTrainingKernels(ours = true): void {
  oursActive = ours;
  for (const name of KERNELS) {
    if (!stockKernels.has(name)) {
      const stock = tf.getKernel(name, 'webgpu');
      if (!stock) throw new Error(`tfjs-backend-webgpu has no ${name} kernel to replace`);
      stockKernels.set(name, stock);
    }
    const stock = stockKernels.get(name)!;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(ours ? { ...stock, kernelFunc: kernelFor(name, stock) } : stock);
  }
}
