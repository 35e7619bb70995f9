// A tiny two-class ImageFolder dataset (train/ and val/, one folder per class) written as PNGs, so
// end-to-end runs take seconds. The classes differ in colour, so a few epochs do learn something,
// and the pixel noise is seeded: the same call writes byte-identical files.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export interface TinyDatasetOptions {
  /** Side of the square images. Default 32 */
  size?: number;
  /** Images per class in train/. Default 4 */
  trainPerClass?: number;
  /** Images per class in val/. Default 2 */
  valPerClass?: number;
  /** Class folder names. Default ['ants', 'bees'] */
  classes?: string[];
  /** Noise seed. Default 1 */
  seed?: number;
}

/** Writes the dataset into `dir` (created) and returns it. */
export async function writeTinyDataset(dir: string, options: TinyDatasetOptions = {}): Promise<string> {
  const size = options.size ?? 32;
  const classes = options.classes ?? ['ants', 'bees'];
  let state = (options.seed ?? 1) >>> 0 || 1;
  const next = (): number => {
    // xorshift32: deterministic noise without depending on the engine's Rng.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  for (const [split, perClass] of [['train', options.trainPerClass ?? 4], ['val', options.valPerClass ?? 2]] as const) {
    for (const [label, name] of classes.entries()) {
      const folder = path.join(dir, split, name);
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const pixels = Buffer.alloc(size * size * 3);
        for (let p = 0; p < size * size; p++) {
          const base = label === 0 ? [180, 60, 40] : [40, 70, 190];
          for (let c = 0; c < 3; c++) pixels[p * 3 + c] = Math.max(0, Math.min(255, Math.round((base[c] as number) + (next() - 0.5) * 120)));
        }
        await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path.join(folder, `${name}-${i}.png`));
      }
    }
  }
  return dir;
}
