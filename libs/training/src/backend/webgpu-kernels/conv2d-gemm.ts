// ResNet18's convolutions on webgpu as implicit GEMMs (implicit-gemm.ts), NHWC, all geometry baked
// into the WGSL as constants (a handful of shapes per model, each compiled once):
//  - forward:        C[N*Ho*Wo, Co]  = im2col(x)[., kh*kw*Ci] x W[kh*kw*Ci, Co]  (+ bias, ReLU when fused)
//  - filter gradient: C[kh*kw*Ci, Co] = im2col(x)^T x dy[N*Ho*Wo, Co], the N*Ho*Wo reduction split across
//    workgroups (split-K) into partial sums, then one summing pass;
//  - input gradient: per stride phase (py, px) a dense GEMM over the dx pixels of that phase and the
//    filter taps that reach them (the polyphase form of wasm-kernels.ts: no zero-inserted dy, a
//    quarter of the work of that form at stride 2), all phases in one dispatch.
// An input gradient whose output tiles are too few to fill the GPU (layer4: 7x7 pixels per image,
// a 4608-long reduction) splits its reduction the same way (split-K) and sums the parts after.
// The 3-channel stem gets its own tiling: a k tile of one filter row (kw*Ci = 21 for 7x7x3), so the
// 147-long reduction has no ragged last tile and each staged row is contiguous in x.
import { tf } from '../tf.js';
import { gemmProgram, splitKSumProgram, TILE_N, tileRows, type GemmSpec } from './implicit-gemm.js';
import type { WebgpuBackendInternals } from './webgpu-program.js';

type Info = tf.TensorInfo;
export type ConvInfo = tf.backend_util.Conv2DInfo;

/** Inputs per workgroup-row tile: below this the channel count is too small for a 16-deep k tile. */
const STEM_CHANNELS = 8;
/** Split-K aims at this many workgroups for the filter gradient (enough to fill a large GPU). */
const TARGET_WORKGROUPS = 1024;
/** Each split reduces at least this many output pixels (shorter splits cost more in the epilogue than they gain). */
const MIN_SPLIT_LENGTH = 256;

function tileK(info: ConvInfo): number {
  return info.inChannels < STEM_CHANNELS ? info.filterWidth * info.inChannels : 16;
}

function geometryKey(info: ConvInfo): string {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  return `${n}_${h}_${w}_${ci}_${ho}_${wo}_${co}_${info.filterHeight}_${info.filterWidth}_${info.strideHeight}_${info.strideWidth}_${info.padInfo.top}_${info.padInfo.left}`;
}

/** WGSL constants of the convolution, shared by the three GEMMs. */
function constants(info: ConvInfo): string {
  return `
  const NB = ${info.batchSize}; const H = ${info.inHeight}; const W = ${info.inWidth}; const CI = ${info.inChannels};
  const HO = ${info.outHeight}; const WO = ${info.outWidth}; const CO = ${info.outChannels};
  const KH = ${info.filterHeight}; const KW = ${info.filterWidth}; const SH = ${info.strideHeight}; const SW = ${info.strideWidth};
  const PT = ${info.padInfo.top}; const PL = ${info.padInfo.left};`;
}

/** x at output pixel p (n, ho, wo) and im2col column q (r, c, ci); zero in the padding. */
const IM2COL = `
  fn im2col(p: i32, q: i32) -> f32 {
    let n = p / (HO * WO); let s = p - n * (HO * WO); let ho = s / WO; let wo = s - ho * WO;
    let r = q / (KW * CI); let t = q - r * (KW * CI); let c = t / CI; let ci = t - c * CI;
    let y = ho * SH - PT + r; let xx = wo * SW - PL + c;
    if (y < 0 || y >= H || xx < 0 || xx >= W) { return 0.0; }
    return xIn[((n * H + y) * W + xx) * CI + ci];
  }`;

/** Whether the x dimension of the dispatch fits the adapter (tfjs would reshape it and break our tile indexing). */
function fits(backend: WebgpuBackendInternals, rows: number): boolean {
  return Math.ceil(rows / tileRows(rows)) <= backend.device.limits.maxComputeWorkgroupsPerDimension;
}

export interface ConvEpilogue {
  bias?: Info;
  relu: boolean;
}

/**
 * How many parts a GEMM's reduction is split into: enough workgroups for a large GPU, parts of at
 * least MIN_SPLIT_LENGTH, and partial sums that never need a buffer larger than the largest operand
 * of the step (`scratchLimit` elements), so the size guard's prediction of the largest allocation
 * (webgpu-limits.ts) stays exact.
 */
export function splitCount(tiles: number, reduction: number, outputLength: number, scratchLimit: number): number {
  const wanted = Math.ceil(TARGET_WORKGROUPS / tiles);
  const byLength = Math.max(1, Math.floor(reduction / MIN_SPLIT_LENGTH));
  const byScratch = Math.max(1, Math.floor(scratchLimit / outputLength));
  return Math.max(1, Math.min(wanted, byLength, byScratch));
}

/** Parts of `splits` k-tile multiples over `reduction`, and how many are non-empty. */
function splitLengths(reduction: number, splits: number, tk: number): { perSplit: number; used: number } {
  // A multiple of the k tile, so only the last split has a ragged end.
  const perSplit = Math.max(tk, Math.ceil(Math.ceil(reduction / splits) / tk) * tk);
  return { perSplit, used: Math.max(1, Math.ceil(reduction / perSplit)) };
}

const sizeOf = (t: Info) => tf.util.sizeFromShape(t.shape);

/** Sums a GEMM's partial sums [parts, L] into `outputShape`, freeing them. */
function sumParts(backend: WebgpuBackendInternals, parts: Info, used: number, outputShape: number[]): Info {
  try {
    return backend.runWebGPUProgram(splitKSumProgram(used, tf.util.sizeFromShape(outputShape), outputShape), [parts], 'float32');
  } finally {
    backend.disposeData(parts.dataId);
  }
}

/**
 * y = conv(x, W) (+ bias, ReLU); undefined when the shape is outside what this kernel handles. Never
 * split-K: reordering the forward sums (as accurate against a float64 reference, 5e-6 relative)
 * moved the 2-step PyTorch parity loss by 1.3e-4, past its 1e-4 bound; training there is that
 * sensitive to the forward's rounding.
 */
export function conv2dForward(backend: WebgpuBackendInternals, x: Info, filter: Info, info: ConvInfo, epilogue: ConvEpilogue = { relu: false }): Info | undefined {
  const m = info.batchSize * info.outHeight * info.outWidth;
  if (!fits(backend, m)) return undefined;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const bias = epilogue.bias ? ' + bIn[n]' : '';
  const spec: GemmSpec = {
    key: `fwd_${geometryKey(info)}_${bias ? 'b' : ''}${epilogue.relu ? 'r' : ''}`,
    variableNames: epilogue.bias ? ['xIn', 'wIn', 'bIn'] : ['xIn', 'wIn'],
    outputShape: [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
    wgsl: `${constants(info)}
  ${IM2COL}
  fn sizeM(z: i32) -> i32 { return ${m}; }
  fn kBegin(z: i32) -> i32 { return 0; }
  fn kEnd(z: i32) -> i32 { return ${k}; }
  fn loadA(z: i32, m: i32, k: i32) -> f32 { return im2col(m, k); }
  fn loadB(z: i32, k: i32, n: i32) -> f32 { return wIn[k * CO + n]; }
  fn storeC(z: i32, m: i32, n: i32, v: f32) {
    let o = v${bias};
    result[m * CO + n] = ${epilogue.relu ? 'max(o, 0.0)' : 'o'};
  }`,
    n: info.outChannels,
    maxM: m,
    zCount: 1,
    tileK: tileK(info),
    aFast: 'k',
    bFast: 'n',
  };
  return backend.runWebGPUProgram(gemmProgram(spec), epilogue.bias ? [x, filter, epilogue.bias] : [x, filter], 'float32');
}

/** How many partial sums the filter gradient's reduction is split into. */
export function filterGradSplits(info: ConvInfo, scratchLimit: number): number {
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  const tiles = Math.ceil(rows / tileRows(rows)) * Math.ceil(info.outChannels / TILE_N);
  return splitCount(tiles, info.batchSize * info.outHeight * info.outWidth, rows * info.outChannels, scratchLimit);
}

/** dW[kh, kw, Ci, Co] = sum over n, ho, wo of x patch * dy. */
export function conv2dFilterGradient(backend: WebgpuBackendInternals, x: Info, dy: Info, info: ConvInfo): Info | undefined {
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  if (!fits(backend, rows)) return undefined;
  const reduction = info.batchSize * info.outHeight * info.outWidth;
  const length = rows * info.outChannels;
  const scratchLimit = Math.max(tf.util.sizeFromShape(x.shape), tf.util.sizeFromShape(dy.shape), length);
  const tk = tileK(info);
  const { perSplit, used } = splitLengths(reduction, filterGradSplits(info, scratchLimit), tk);
  const filterShape = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
  const spec: GemmSpec = {
    key: `dw_${geometryKey(info)}_${used}`,
    variableNames: ['xIn', 'dyIn'],
    outputShape: used > 1 ? [used, length] : filterShape,
    wgsl: `${constants(info)}
  ${IM2COL}
  fn sizeM(z: i32) -> i32 { return ${rows}; }
  fn kBegin(z: i32) -> i32 { return z * ${perSplit}; }
  fn kEnd(z: i32) -> i32 { return min(${reduction}, (z + 1) * ${perSplit}); }
  fn loadA(z: i32, m: i32, k: i32) -> f32 { return im2col(k, m); }
  fn loadB(z: i32, k: i32, n: i32) -> f32 { return dyIn[k * CO + n]; }
  fn storeC(z: i32, m: i32, n: i32, v: f32) { result[z * ${length} + m * CO + n] = v; }`,
    n: info.outChannels,
    maxM: rows,
    zCount: used,
    tileK: tk,
    aFast: 'm',
    bFast: 'n',
  };
  const out = backend.runWebGPUProgram(gemmProgram(spec), [x, dy], 'float32');
  return used === 1 ? out : sumParts(backend, out, used, filterShape);
}

/** One stride phase along one axis: which dx rows it covers and which filter taps reach them. */
export interface AxisPhase {
  /** first dx row of the phase */
  first: number;
  /** dx rows in the phase: first, first + stride, ... */
  rows: number;
  /** filter taps of the phase: phase, phase + stride, ... */
  taps: number;
  /** dy row of the phase's row i and tap t: base + i - t */
  base: number;
}

/**
 * Phase `a` of an axis of `size` input rows: the rows y with (y + pad) mod stride = a, reached
 * only by the taps r = a + stride*t, from dy row (y + pad - r) / stride.
 */
export function axisPhase(a: number, size: number, kernel: number, stride: number, pad: number): AxisPhase {
  const first = (((a - pad) % stride) + stride) % stride;
  const rows = first < size ? Math.ceil((size - first) / stride) : 0;
  const taps = a < kernel ? Math.ceil((kernel - a) / stride) : 0;
  return { first, rows, taps, base: (first + pad - a) / stride };
}

/**
 * A WGSL function returning values[i]. An if-chain rather than an indexed array: its result stays
 * uniform for a uniform i, which the barriers of the GEMM loop need.
 */
function wgslTable(name: string, values: number[]): string {
  const cases = values.slice(0, -1).map((v, i) => `if (i == ${i}) { return ${v}; } `).join('');
  return `fn ${name}(i: i32) -> i32 { ${cases}return ${values[values.length - 1]}; }`;
}

/** dx[N, H, W, Ci] = correlation of dy with the flipped filter, phase by phase. */
export function conv2dInputGradient(backend: WebgpuBackendInternals, dy: Info, filter: Info, info: ConvInfo): Info | undefined {
  const { strideHeight: sh, strideWidth: sw } = info;
  const rowsH = Array.from({ length: sh }, (_, a) => axisPhase(a, info.inHeight, info.filterHeight, sh, info.padInfo.top));
  const rowsW = Array.from({ length: sw }, (_, b) => axisPhase(b, info.inWidth, info.filterWidth, sw, info.padInfo.left));
  const maxM = info.batchSize * Math.max(...rowsH.map((p) => p.rows)) * Math.max(...rowsW.map((p) => p.rows));
  if (!fits(backend, maxM)) return undefined;
  const tables = (axis: string, phases: AxisPhase[]) =>
    (['first', 'rows', 'taps', 'base'] as const).map((key) => wgslTable(`${key}${axis}`, phases.map((p) => p[key]))).join('\n  ');
  const outputShape = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
  const length = tf.util.sizeFromShape(outputShape);
  const tm = tileRows(maxM);
  const tiles = rowsH.reduce((sum, ph) => sum + rowsW.reduce((t, pw) => t + Math.ceil((info.batchSize * ph.rows * pw.rows) / tm), 0), 0) * Math.ceil(info.inChannels / TILE_N);
  const longest = Math.max(...rowsH.map((p) => p.taps)) * Math.max(...rowsW.map((p) => p.taps)) * info.outChannels;
  const tk = 16;
  // Every phase is split into the same number of parts (z = phase * parts + part); each part writes
  // its whole phase (zeros where its k range is empty), so the sum pass sees every element.
  const parts = splitLengths(longest, splitCount(tiles, longest, length, Math.max(sizeOf(dy), sizeOf(filter), length)), tk).used;
  const spec: GemmSpec = {
    key: `dx_${geometryKey(info)}_${parts}`,
    variableNames: ['dyIn', 'wIn'],
    outputShape: parts > 1 ? [parts, length] : outputShape,
    wgsl: `${constants(info)}
  ${tables('H', rowsH)}
  ${tables('W', rowsW)}
  const PARTS = ${parts};
  fn phaseA(z: i32) -> i32 { return (z / PARTS) / SW; }
  fn phaseB(z: i32) -> i32 { return (z / PARTS) % SW; }
  fn phaseK(z: i32) -> i32 { return tapsH(phaseA(z)) * tapsW(phaseB(z)) * CO; }
  fn perPart(z: i32) -> i32 { return ((phaseK(z) + PARTS - 1) / PARTS + ${tk - 1}) / ${tk} * ${tk}; }
  fn sizeM(z: i32) -> i32 { return NB * rowsH(phaseA(z)) * rowsW(phaseB(z)); }
  fn kBegin(z: i32) -> i32 { return min(phaseK(z), (z % PARTS) * perPart(z)); }
  fn kEnd(z: i32) -> i32 { return min(phaseK(z), (z % PARTS + 1) * perPart(z)); }
  fn loadA(z: i32, m: i32, k: i32) -> f32 {
    let a = phaseA(z); let b = phaseB(z);
    let cells = rowsH(a) * rowsW(b);
    let nb = m / cells; let s = m - nb * cells; let i = s / rowsW(b); let j = s - i * rowsW(b);
    let tw = tapsW(b) * CO;
    let t = k / tw; let q = k - t * tw; let u = q / CO; let co = q - u * CO;
    let y = baseH(a) + i - t; let xx = baseW(b) + j - u;
    if (y < 0 || y >= HO || xx < 0 || xx >= WO) { return 0.0; }
    return dyIn[((nb * HO + y) * WO + xx) * CO + co];
  }
  fn loadB(z: i32, k: i32, n: i32) -> f32 {
    let a = phaseA(z); let b = phaseB(z);
    let tw = tapsW(b) * CO;
    let t = k / tw; let q = k - t * tw; let u = q / CO; let co = q - u * CO;
    return wIn[(((a + SH * t) * KW + b + SW * u) * CI + n) * CO + co];
  }
  fn storeC(z: i32, m: i32, n: i32, v: f32) {
    let a = phaseA(z); let b = phaseB(z);
    let cells = rowsH(a) * rowsW(b);
    let nb = m / cells; let s = m - nb * cells; let i = s / rowsW(b); let j = s - i * rowsW(b);
    result[(z % PARTS) * ${length} + ((nb * H + firstH(a) + SH * i) * W + firstW(b) + SW * j) * CI + n] = v;
  }`,
    n: info.inChannels,
    maxM,
    zCount: sh * sw * parts,
    tileK: tk,
    aFast: 'k',
    bFast: 'k',
  };
  const out = backend.runWebGPUProgram(gemmProgram(spec), [dy, filter], 'float32');
  return parts === 1 ? out : sumParts(backend, out, parts, outputShape);
}
