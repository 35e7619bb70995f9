// A tiny ImageFolder dataset (train/ and val/, two classes of small PNGs) written at test time, so
// fault tests and benchmarks train real epochs in seconds without fixtures in git. Deterministic:
// the same options give byte-identical images, so two runs with one seed mean the same thing.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export interface TinyDatasetOptions {
  /** Training images per class. Default 8 */
  trainPerClass?: number;
  /** Validation images per class. Default 4 */
  valPerClass?: number;
  /** Side of each image in pixels. Default 40 */
  size?: number;
}

/** Writes <root>/<name>/{train,val}/{ants,bees}/*.png; returns the dataset folder. */
export async function makeTinyDataset(root: string, name: string, options: TinyDatasetOptions = {}): Promise<string> {
  const size = options.size ?? 40;
  const dir = path.join(root, name);
  let state = 12345;
  // Park-Miller: deterministic pixels without depending on the engine's RNG.
  const next = (): number => (state = (state * 48271) % 2147483647) / 2147483647;
  for (const [split, count] of [['train', options.trainPerClass ?? 8], ['val', options.valPerClass ?? 4]] as const) {
    for (const [label, cls] of ['ants', 'bees'].entries()) {
      const folder = path.join(dir, split, cls);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < count; i++) {
        const pixels = Buffer.alloc(size * size * 3);
        for (let p = 0; p < size * size; p++) {
          // The classes differ in their dominant colour channel, so accuracy can rise above chance.
          pixels[p * 3 + label] = 128 + Math.floor(next() * 127);
          pixels[p * 3 + 2] = Math.floor(next() * 255);
        }
        await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path.join(folder, `${cls}-${i}.png`));
      }
    }
  }
  return dir;
}
