// Deterministic resnet18 weights from an integer hash, reproduced bit for bit by
// scripts/parity/make-parity-fixtures.py. They let the parity tests compare against torchvision
// without committing 45 MB of real weights, and let benchmarks run without a download.
import type { StateDict } from '../weights/index.js';
import { stateKeys } from './resnet18-spec.js';

// Under Jest (node:vm contexts) every global lookup in a hot loop goes through an interceptor and
// costs ~100x; module-level aliases keep the loop fast there too.
const imul = Math.imul;

export const PARITY_IMAGE_SEED = 100000;
export const PARITY_HEAD_SEED = 200000;

/** u in [-0.5, 0.5) for element i of tensor p (uint32 hash, top 24 bits). */
export function hashUniform(p: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const a = imul(p + 1, 0x9e3779b1);
  for (let i = 0; i < n; i++) {
    let h = a ^ imul(i + 1, 0x85ebca6b);
    h ^= h >>> 16;
    h = imul(h, 0x7feb352d);
    h ^= h >>> 15;
    h = imul(h, 0x846ca68b);
    h ^= h >>> 16;
    out[i] = (h >>> 8) / 16777216 - 0.5;
  }
  return out;
}

/** The value formula per key (see value_for in the Python script). */
export function deterministicTensor(key: string, p: number, shape: number[]): Float32Array {
  const n = shape.reduce((x, y) => x * y, 1);
  const u = hashUniform(p, n);
  let scale: number;
  let offset = 0;
  if (key === 'fc.weight') scale = 2 / Math.sqrt(shape[1]!);
  else if (key === 'fc.bias') scale = 0.2;
  else if (shape.length === 4) scale = 2 * Math.sqrt(6 / (shape[1]! * shape[2]! * shape[3]!));
  else if (key.endsWith('running_var')) [scale, offset] = [0.8, 1];
  else if (key.endsWith('weight')) [scale, offset] = [0.4, 1];
  else scale = 0.2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * u[i]!;
  return out;
}

export function deterministicStateDict(): StateDict {
  const sd: StateDict = new Map();
  stateKeys().forEach((k, p) => {
    if (k.key.endsWith('num_batches_tracked')) sd.set(k.key, { shape: [], dtype: 'int64', data: new BigInt64Array(1) });
    else sd.set(k.key, { shape: k.shape, dtype: 'float32', data: deterministicTensor(k.key, p, k.shape) });
  });
  return sd;
}

/** Parity input images, NHWC float32 (the Python side draws them NCHW). */
export function deterministicImagesNhwc(step: number, batch: number, size: number): Float32Array {
  const u = hashUniform(PARITY_IMAGE_SEED + step, batch * 3 * size * size);
  const out = new Float32Array(u.length);
  const fround = Math.fround;
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) out[((n * size + y) * size + x) * 3 + c] = fround(u[((n * 3 + c) * size + y) * size + x]! * 4);
  return out;
}
