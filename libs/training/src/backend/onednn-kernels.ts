// The native CPU path: TensorFlow.js kernels registered over the wasm backend that run oneDNN (the
// library PyTorch's CPU convolutions use) and small multi-threaded C++ loops on the wasm heap IN
// PLACE (native/onednn-kernels.cpp). The tfjs graph, autograd, optimizer and every small op stay on
// wasm; only the heavy ops move: convolutions forward / input gradient / filter gradient, the eval
// path's fused conv + bias + ReLU, max-pool backward, BatchNorm in train mode (with the following
// residual add and ReLU fused, see batch-norm.ts) and the SGD update (see sgd.ts): most of a step.
//
// Why over wasm and not a backend of our own: a backend must implement ~200 kernels; over wasm we
// replace the 7 that cost, keep tfjs's memory management and tape, and a tensor never moves.
// Must never: hold a heap view across an allocation (makeOutput may grow and detach the heap: the
// buffer is taken after the last allocation of each kernel), or run when tfjs is on another backend.
import { tf } from './tf.js';
import type { WasmHeapBackend } from './wasm-kernels.js';
import type { OnednnAddon, HeapKernel } from './native/onednn-addon.js';

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type ConvInfo = tf.backend_util.Conv2DInfo;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Custom kernels (no tfjs equivalent): BatchNorm train forward/backward with fused residual + ReLU. */
export const BATCH_NORM_TRAIN = 'FleetBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'FleetBatchNormTrainGrad';
/** Custom kernel: one SGD-momentum update of one parameter, [newParam, newBuffer] (see sgd.ts). */
export const SGD_MOMENTUM = 'FleetSgdMomentum';

/** Runs one addon kernel with tensors' heap offsets; the heap is read after every allocation. */
function call(backend: tf.KernelBackend, kernel: HeapKernel, tensors: (Info | undefined)[], numbers: number[]): void {
  const heap = backend as unknown as WasmHeapBackend;
  const params = new Float64Array(tensors.length + numbers.length);
  let buffer: ArrayBuffer | undefined;
  tensors.forEach((t, i) => {
    if (!t) {
      params[i] = -1;
      return;
    }
    const view = heap.typedArrayFromHeap(t);
    buffer = view.buffer as ArrayBuffer;
    params[i] = view.byteOffset;
  });
  params.set(numbers, tensors.length);
  kernel(buffer!, params);
}

/** oneDNN's convolution geometry from tfjs's conv info, or undefined when oneDNN would disagree with tfjs. */
function convGeometry(info: ConvInfo): number[] | undefined {
  const { batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, outHeight, outWidth } = info;
  const { top, left, bottom, right } = info.padInfo;
  // oneDNN derives the output size with floor division and rejects any other; tfjs's 'ceil'
  // rounding or negative pads never occur in ResNet18 and go to the wasm kernels.
  const expectH = Math.floor((inHeight + top + bottom - ((filterHeight - 1) * dilationHeight + 1)) / strideHeight) + 1;
  const expectW = Math.floor((inWidth + left + right - ((filterWidth - 1) * dilationWidth + 1)) / strideWidth) + 1;
  if (expectH !== outHeight || expectW !== outWidth || top < 0 || left < 0 || bottom < 0 || right < 0 || info.dataFormat !== 'channelsLast') return undefined;
  return [batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, top, left, bottom, right, outHeight, outWidth];
}

function convInfoOf(xShape: number[], filterShape: number[], a: ConvAttrs): ConvInfo | undefined {
  if (a.dataFormat !== 'NHWC') return undefined;
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
}

export interface OnednnKernelSet {
  /** The kernels this set replaced, restored by {@link OnednnKernelSet.unregister}. */
  unregister(): void;
}

/**
 * Registers the native kernels over the wasm backend (replacing wasm's and our wasm-kernels.ts
 * ones for the same names); each falls back to the kernel it replaced for shapes or attributes it
 * does not cover. Returns a handle that restores the previous kernels.
 */
export function registerOnednnKernels(addon: OnednnAddon): OnednnKernelSet {
  const previous = new Map<string, tf.KernelConfig | undefined>();
  const replace = (kernelName: string, kernelFunc: (args: KernelArgs, fallback: tf.KernelFunc | undefined) => Info | Info[]) => {
    const old = tf.getKernel(kernelName, 'wasm');
    previous.set(kernelName, old);
    if (old) tf.unregisterKernel(kernelName, 'wasm');
    const fallback = old?.kernelFunc;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: ((args: KernelArgs) => kernelFunc(args, fallback)) as unknown as tf.KernelFunc });
  };
  const useFallback = (fallback: tf.KernelFunc | undefined, args: KernelArgs, why: string): Info => {
    if (!fallback) throw new Error(`oneDNN kernels: ${why} and no wasm kernel to fall back to`);
    return fallback(args as unknown as Parameters<tf.KernelFunc>[0]) as Info;
  };

  replace('Conv2D', (args, fallback) => {
    const { x, filter } = args.inputs as { x: Info; filter: Info };
    const info = convInfoOf(x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
    const geom = info && convGeometry(info);
    if (!info || !geom) return useFallback(fallback, args, 'unsupported Conv2D');
    const y = (args.backend as unknown as WasmHeapBackend).makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
    call(args.backend, addon.convForward, [x, filter, undefined, y], [...geom, 0, 1]);
    return y;
  });

  replace('FusedConv2D', (args, fallback) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info };
    const a = args.attrs as unknown as ConvAttrs & { activation: string };
    const info = convInfoOf(x.shape, filter.shape, a);
    const geom = info && convGeometry(info);
    const biasOk = !bias || (bias.shape.length === 1 && bias.shape[0] === info?.outChannels);
    if (!info || !geom || preluActivationWeights || !biasOk || (a.activation !== 'relu' && a.activation !== 'linear')) return useFallback(fallback, args, 'unsupported FusedConv2D');
    const y = (args.backend as unknown as WasmHeapBackend).makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
    call(args.backend, addon.convForward, [x, filter, bias, y], [...geom, a.activation === 'relu' ? 1 : 0, 0]);
    return y;
  });

  replace('Conv2DBackpropInput', (args, fallback) => {
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const a = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
    const info = convInfoOf(a.inputShape, filter.shape, { ...a, dilations: 1 });
    const geom = info && convGeometry(info);
    if (!info || !geom) return useFallback(fallback, args, 'unsupported Conv2DBackpropInput');
    const dx = (args.backend as unknown as WasmHeapBackend).makeOutput(a.inputShape, 'float32');
    call(args.backend, addon.convBackwardData, [dy, filter, dx], geom);
    return dx;
  });

  replace('Conv2DBackpropFilter', (args, fallback) => {
    const { x, dy } = args.inputs as { x: Info; dy: Info };
    const a = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
    const info = convInfoOf(x.shape, a.filterShape, { ...a, dilations: 1 });
    const geom = info && convGeometry(info);
    if (!info || !geom) return useFallback(fallback, args, 'unsupported Conv2DBackpropFilter');
    const dw = (args.backend as unknown as WasmHeapBackend).makeOutput(a.filterShape, 'float32');
    call(args.backend, addon.convBackwardWeights, [x, dy, dw], geom);
    return dw;
  });

  replace('MaxPoolGrad', (args) => {
    const { dy, input } = args.inputs as { dy: Info; input: Info };
    const a = args.attrs as unknown as { filterSize: [number, number] | number; strides: [number, number] | number; pad: ConvAttrs['pad']; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const dx = (args.backend as unknown as WasmHeapBackend).makeOutput(input.shape, 'float32');
    call(args.backend, addon.maxPoolGrad, [dy, input, dx], [
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.effectiveFilterHeight, info.effectiveFilterWidth, info.strideHeight, info.strideWidth,
      info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
    ]);
    return dx;
  });

  replace(BATCH_NORM_TRAIN, (args) => {
    const { x, gamma, beta, residual } = args.inputs as { x: Info; gamma: Info; beta: Info; residual?: Info };
    const { epsilon, relu } = args.attrs as unknown as { epsilon: number; relu: boolean };
    const channels = x.shape[x.shape.length - 1]!;
    const pixels = x.shape.reduce((p, d) => p * d, 1) / channels;
    const heap = args.backend as unknown as WasmHeapBackend;
    const outs = [heap.makeOutput(x.shape, 'float32'), heap.makeOutput([channels], 'float32'), heap.makeOutput([channels], 'float32'), heap.makeOutput([channels], 'float32')];
    if (relu) outs.push(heap.makeOutput(x.shape, 'bool'));
    call(args.backend, addon.batchNormForward, [x, gamma, beta, residual, outs[0], outs[1], outs[2], outs[3], outs[4]], [pixels, channels, epsilon]);
    return outs; // y, mean, biased variance, invStd[, ReLU mask (bool: 1 where y > 0)]
  });

  replace(BATCH_NORM_TRAIN_GRAD, (args) => {
    const { dy, mask, x, mean, invStd, gamma } = args.inputs as Record<'dy' | 'x' | 'mean' | 'invStd' | 'gamma', Info> & { mask?: Info };
    const { residual } = args.attrs as unknown as { residual: boolean };
    const channels = x.shape[x.shape.length - 1]!;
    const pixels = x.shape.reduce((p, d) => p * d, 1) / channels;
    const heap = args.backend as unknown as WasmHeapBackend;
    const outs = [heap.makeOutput(x.shape, 'float32'), heap.makeOutput([channels], 'float32'), heap.makeOutput([channels], 'float32')];
    if (residual) outs.push(heap.makeOutput(x.shape, 'float32'));
    call(args.backend, addon.batchNormBackward, [dy, mask, x, mean, invStd, gamma, outs[0], outs[1], outs[2], outs[3]], [pixels, channels]);
    return outs; // dx, dgamma, dbeta[, dResidual]
  });

  replace(SGD_MOMENTUM, (args) => {
    const { param, grad, buffer } = args.inputs as { param: Info; grad: Info; buffer?: Info };
    const { lr, momentum, weightDecay } = args.attrs as unknown as { lr: number; momentum: number; weightDecay: number };
    const heap = args.backend as unknown as WasmHeapBackend;
    const outs = [heap.makeOutput(param.shape, 'float32'), heap.makeOutput(param.shape, 'float32')];
    call(args.backend, addon.sgdMomentum, [param, grad, buffer, outs[0], outs[1]], [param.shape.reduce((p, d) => p * d, 1), lr, momentum, weightDecay]);
    return outs; // newParam, newBuffer
  });

  return {
    unregister() {
      for (const [kernelName, old] of previous) {
        tf.unregisterKernel(kernelName, 'wasm');
        if (old) tf.registerKernel(old);
      }
      previous.clear();
    },
  };
}

let active: { addon: OnednnAddon; kernels: OnednnKernelSet } | undefined;

/**
 * Turns the native path on: registers the kernels (once) and sets the thread count (default: every
 * core, oneDNN's own default). Returns what the run records as its device.
 */
export function enableOnednnKernels(addon: OnednnAddon, threads?: number): ReturnType<OnednnAddon['describe']> {
  if (threads !== undefined) addon.setThreads(threads);
  active ??= { addon, kernels: registerOnednnKernels(addon) };
  return addon.describe();
}

/** Back to the plain wasm kernels (the fallback path, and tests comparing the two). */
export function disableOnednnKernels(): void {
  active?.kernels.unregister();
  active = undefined;
}

/** True while the native kernels serve the current (wasm) backend. */
export function onednnActive(): boolean {
  return active !== undefined && tf.getBackend() === 'wasm';
}
