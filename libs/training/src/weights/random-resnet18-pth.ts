// Writes a ResNet18-shaped PyTorch state dict (.pth, torch >= 1.6 zip format) with seeded
// He-initialised weights and identity BatchNorm: what the pretrained strategies need in tests
// (without committing 45 MB or needing Python) and the demo's loudly named offline stand-in.
// Not ImageNet weights: numbers are random, only names, shapes and format are real.
import { writeFile } from 'node:fs/promises';
import { stateKeys } from '../model/resnet18-spec.js';
import type { StateDict } from './pth-loader.js';
import { encodePth } from './pth-writer.js';

/** Writes the state dict to `file`; `numClasses` sizes fc (1000 = ImageNet, as torchvision's). */
export async function writeRandomResnet18Pth(file: string, options: { seed?: number; numClasses?: number } = {}): Promise<string> {
  let state = (options.seed ?? 7) >>> 0 || 7;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const sd: StateDict = new Map();
  for (const entry of stateKeys(options.numClasses ?? 1000)) {
    const numel = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.key.endsWith('num_batches_tracked')) {
      sd.set(entry.key, { shape: entry.shape, dtype: 'int64', data: new BigInt64Array([0n]) });
      continue;
    }
    const values = new Float32Array(numel);
    const fanIn = entry.shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = Math.sqrt(6 / Math.max(1, fanIn));
    for (let i = 0; i < numel; i++) {
      if (entry.key.endsWith('running_var') || (entry.kind === 'bn' && entry.key.endsWith('.weight'))) values[i] = 1;
      else if (entry.kind === 'bn') values[i] = 0;
      else values[i] = (uniform() * 2 - 1) * bound;
    }
    sd.set(entry.key, { shape: entry.shape, dtype: 'float32', data: values });
  }
  await writeFile(file, encodePth(sd));
  return file;
}
