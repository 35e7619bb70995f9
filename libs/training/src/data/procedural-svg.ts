// Shared pieces of the procedural datasets (demo-dataset.ts, shapes-dataset.ts): number and colour
// formatting for SVG, the cluttered backgrounds and occluding leaves both draw on, and the writer of
// an ImageFolder tree of JPEGs rendered by sharp. Deterministic: the same seed and options give
// byte-identical files. Writes only inside the folder it is given.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../rng.js';

export const f = (v: number): string => (Math.round(v * 100) / 100).toString();
export const hsl = (h: number, s: number, l: number, a = 1): string => `hsla(${f(h)},${f(s)}%,${f(l)}%,${f(a)})`;

/** A textured random background (leaves, pebbles, stray stripes, specks, flowers) filling the square. */
export function background(rng: Rng, size: number): string {
  const hue = rng.uniform(0, 360);
  const sat = rng.uniform(10, 55);
  const light = rng.uniform(30, 75);
  const parts = [`<rect width="${size}" height="${size}" fill="${hsl(hue, sat, light)}"/>`];
  // Leaves/pebbles: soft blobs of nearby colours, plus a few stray stripes and dark specks so that
  // neither "has stripes" nor "has dark blobs" alone separates the classes.
  for (let i = 0, n = 18 + rng.int(20); i < n; i++) {
    const r = size * rng.uniform(0.03, 0.22);
    parts.push(
      `<ellipse cx="${f(rng.uniform(0, size))}" cy="${f(rng.uniform(0, size))}" rx="${f(r)}" ry="${f(r * rng.uniform(0.3, 1))}" ` +
        `transform="rotate(${f(rng.uniform(0, 180))} ${f(size / 2)} ${f(size / 2)})" fill="${hsl(hue + rng.uniform(-40, 40), sat * rng.uniform(0.5, 1.5), light + rng.uniform(-25, 25), rng.uniform(0.25, 0.8))}"/>`,
    );
  }
  for (let i = 0, n = rng.int(3); i < n; i++) {
    const x = rng.uniform(0, size);
    parts.push(
      `<rect x="${f(x)}" y="${f(rng.uniform(-size / 2, size))}" width="${f(size * rng.uniform(0.02, 0.06))}" height="${f(size * rng.uniform(0.2, 0.6))}" ` +
        `transform="rotate(${f(rng.uniform(-60, 60))} ${f(x)} ${f(size / 2)})" fill="${hsl(rng.uniform(30, 60), rng.uniform(20, 70), rng.uniform(10, 60), 0.6)}"/>`,
    );
  }
  for (let i = 0, n = rng.int(4); i < n; i++) {
    parts.push(`<circle cx="${f(rng.uniform(0, size))}" cy="${f(rng.uniform(0, size))}" r="${f(size * rng.uniform(0.01, 0.04))}" fill="${hsl(rng.uniform(0, 40), 30, rng.uniform(5, 25), 0.8)}"/>`);
  }
  // Yellow and orange flowers with dark centres: bee colours that are not bees.
  for (let i = 0, n = rng.next() < 0.5 ? 1 + rng.int(3) : 0; i < n; i++) {
    const x = rng.uniform(0, size);
    const y = rng.uniform(0, size);
    const r = size * rng.uniform(0.04, 0.12);
    const petals = 5 + rng.int(4);
    const colour = hsl(rng.uniform(30, 58), rng.uniform(70, 100), rng.uniform(45, 65));
    for (let p = 0; p < petals; p++) {
      const a = (2 * Math.PI * p) / petals;
      parts.push(`<circle cx="${f(x + Math.cos(a) * r * 0.7)}" cy="${f(y + Math.sin(a) * r * 0.7)}" r="${f(r * 0.45)}" fill="${colour}"/>`);
    }
    parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${f(r * 0.35)}" fill="${hsl(rng.uniform(10, 40), 50, rng.uniform(8, 25))}"/>`);
  }
  return parts.join('');
}

/** Leaves in front of the object now and then, so part of it is hidden. */
export function occluders(rng: Rng, size: number): string {
  const parts: string[] = [];
  for (let i = 0, n = rng.next() < 0.4 ? 1 + rng.int(2) : 0; i < n; i++) {
    const r = size * rng.uniform(0.08, 0.18);
    parts.push(
      `<ellipse cx="${f(rng.uniform(0, size))}" cy="${f(rng.uniform(0, size))}" rx="${f(r)}" ry="${f(r * rng.uniform(0.4, 0.8))}" fill="${hsl(rng.uniform(70, 150), rng.uniform(20, 60), rng.uniform(25, 55), rng.uniform(0.7, 0.95))}"/>`,
    );
  }
  return parts.join('');
}

export interface ProceduralFolderOptions {
  /** Seeds every drawing decision. */
  seed: number;
  trainPerClass: number;
  valPerClass: number;
  /** Side of the square images in pixels (16..2048). */
  imageSize: number;
  /** JPEG quality. */
  quality: number;
  /** Replace train/ and val/ when `dir` already holds a dataset (otherwise refuse). */
  overwrite: boolean;
}

/** What a generated dataset's caller may set; an unset field takes that dataset's default. */
export type ProceduralDatasetOptions = Partial<ProceduralFolderOptions>;

/** The sizes each generated dataset picks its own defaults for. */
export type ProceduralDatasetSizes = Pick<ProceduralFolderOptions, 'trainPerClass' | 'valPerClass' | 'imageSize'>;

/** Fills unset options: the dataset's own sizes, then seed 0, JPEG quality 90 and no overwrite. */
export function proceduralFolderOptions(options: ProceduralDatasetOptions, sizes: ProceduralDatasetSizes): ProceduralFolderOptions {
  return {
    seed: options.seed ?? 0,
    trainPerClass: options.trainPerClass ?? sizes.trainPerClass,
    valPerClass: options.valPerClass ?? sizes.valPerClass,
    imageSize: options.imageSize ?? sizes.imageSize,
    quality: options.quality ?? 90,
    overwrite: options.overwrite ?? false,
  };
}

export interface ProceduralFolderSummary {
  root: string;
  classes: string[];
  train: Record<string, number>;
  val: Record<string, number>;
  imageSize: number;
  seed: number;
  files: number;
  bytes: number;
}

/** At most this many classes: the per-(split, class) random streams are salted split * 16 + class. */
export const MAX_PROCEDURAL_CLASSES = 16;

/**
 * Writes <dir>/{train,val}/<class>/<prefix>_NNNN.jpg with `svg(class, rng, size)` for each image.
 * One random stream per (split, class), so changing the train count leaves val images unchanged.
 */
export async function writeProceduralImageFolder(
  dir: string,
  classes: readonly { name: string; filePrefix: string }[],
  svg: (classIndex: number, rng: Rng, size: number) => string,
  options: ProceduralFolderOptions,
): Promise<ProceduralFolderSummary> {
  const { seed, trainPerClass, valPerClass, imageSize: size, quality } = options;
  for (const [name, v] of Object.entries({ trainPerClass, valPerClass, imageSize: size, quality })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (size < 16 || size > 2048) throw new RangeError(`imageSize must be within 16..2048, got ${size}`);
  if (classes.length > MAX_PROCEDURAL_CLASSES) throw new RangeError(`at most ${MAX_PROCEDURAL_CLASSES} classes, got ${classes.length}`);
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.includes('train') || existing.includes('val')) {
    if (!options.overwrite) throw new Error(`${dir} already holds a dataset (train/ or val/); choose an empty folder or overwrite`);
    await rm(join(dir, 'train'), { recursive: true, force: true });
    await rm(join(dir, 'val'), { recursive: true, force: true });
  }
  const root = new Rng(seed);
  const summary: ProceduralFolderSummary = { root: dir, classes: classes.map((c) => c.name), train: {}, val: {}, imageSize: size, seed, files: 0, bytes: 0 };
  for (const [splitIndex, split] of (['train', 'val'] as const).entries()) {
    const count = split === 'train' ? trainPerClass : valPerClass;
    for (const [classIndex, cls] of classes.entries()) {
      const folder = join(dir, split, cls.name);
      await mkdir(folder, { recursive: true });
      const rng = root.fork(splitIndex * MAX_PROCEDURAL_CLASSES + classIndex);
      for (let i = 0; i < count; i++) {
        const jpeg = await sharp(Buffer.from(svg(classIndex, rng, size)))
          .flatten({ background: '#808080' })
          .jpeg({ quality, chromaSubsampling: '4:4:4' })
          .toBuffer();
        await writeFile(join(folder, `${cls.filePrefix}_${String(i).padStart(4, '0')}.jpg`), jpeg);
        summary.files++;
        summary.bytes += jpeg.length;
      }
      summary[split][cls.name] = count;
    }
  }
  return summary;
}
