// A procedurally drawn stand-in for the tutorial's hymenoptera data, for tests, demos and machines
// without the download: striped "bees" (yellow/black bands, wings) vs segmented "ants" (three dark
// blobs, thin legs) on textured random backgrounds, with random pose, scale and colours. Drawn as
// SVG and rendered by sharp, so the same seed gives byte-identical JPEG files.
// Default size: 2 classes x (60 train + 40 val) = 200 JPEGs of 96x96, about 0.75 MB on disk
// (measured ~2 s to generate). Colour statistics alone separate the classes ~71% of the time;
// shape (stripes and wings vs blobs and legs) is what makes them learnable.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../rng.js';

export interface DemoDatasetOptions {
  /** Seeds every drawing decision. Default 0 */
  seed?: number;
  /** Images per class in train/. Default 60 */
  trainPerClass?: number;
  /** Images per class in val/. Default 40 */
  valPerClass?: number;
  /** Side of the square images in pixels. Default 96 */
  imageSize?: number;
  /** JPEG quality. Default 90 */
  quality?: number;
  /** Replace train/ and val/ when `dir` already holds a dataset (otherwise refuse). Default false */
  overwrite?: boolean;
}

export interface DemoDatasetSummary {
  root: string;
  classes: string[];
  train: Record<string, number>;
  val: Record<string, number>;
  imageSize: number;
  seed: number;
  files: number;
  bytes: number;
}

export const DEMO_CLASSES = ['ants', 'bees'] as const;

const f = (v: number): string => (Math.round(v * 100) / 100).toString();
const hsl = (h: number, s: number, l: number, a = 1): string => `hsla(${f(h)},${f(s)}%,${f(l)}%,${f(a)})`;

function background(rng: Rng, size: number): string {
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

/** A bee drawn pointing right around (0,0), body length ~1 unit. */
function bee(rng: Rng): string {
  const yellow = hsl(rng.uniform(28, 55), rng.uniform(55, 100), rng.uniform(38, 62));
  const dark = hsl(rng.uniform(20, 40), rng.uniform(10, 50), rng.uniform(3, 15));
  const stripes = 3 + rng.int(3);
  const bands: string[] = [];
  for (let i = 0; i < stripes; i++) {
    const x = -0.45 + (0.9 * (i + 0.5)) / stripes;
    bands.push(`<rect x="${f(x - 0.06)}" y="-0.4" width="${f(rng.uniform(0.07, 0.12))}" height="0.8" fill="${dark}"/>`);
  }
  const wing = (side: number): string =>
    `<ellipse cx="${f(rng.uniform(-0.1, 0.05))}" cy="${f(side * rng.uniform(0.22, 0.32))}" rx="${f(rng.uniform(0.2, 0.3))}" ry="${f(rng.uniform(0.1, 0.16))}" ` +
    `transform="rotate(${f(side * rng.uniform(10, 40))})" fill="${hsl(200, 30, 92, rng.uniform(0.45, 0.75))}" stroke="${hsl(0, 0, 40, 0.5)}" stroke-width="0.02"/>`;
  return (
    `<clipPath id="body"><ellipse cx="0" cy="0" rx="0.45" ry="${f(rng.uniform(0.2, 0.28))}"/></clipPath>` +
    `<g clip-path="url(#body)"><rect x="-0.5" y="-0.5" width="1" height="1" fill="${yellow}"/>${bands.join('')}</g>` +
    `<circle cx="0.5" cy="0" r="${f(rng.uniform(0.12, 0.17))}" fill="${dark}"/>` +
    wing(-1) +
    wing(1)
  );
}

/** An ant drawn pointing right around (0,0): head, thorax, abdomen blobs and six thin legs. */
function ant(rng: Rng): string {
  // Mostly dark, a third of them orange to yellow-brown like weaver or fire ants.
  const colour = rng.next() < 0.35 ? hsl(rng.uniform(15, 45), rng.uniform(60, 95), rng.uniform(35, 55)) : hsl(rng.uniform(0, 30), rng.uniform(20, 70), rng.uniform(6, 28));
  const leg = rng.uniform(0.015, 0.03);
  const parts: string[] = [];
  for (const x of [-0.12, 0.0, 0.12]) {
    for (const side of [-1, 1]) {
      const kx = x + rng.uniform(-0.12, 0.12);
      const ky = side * rng.uniform(0.18, 0.28);
      parts.push(
        `<polyline points="${f(x)},0 ${f(kx)},${f(ky)} ${f(kx + rng.uniform(-0.2, 0.2))},${f(ky + side * rng.uniform(0.1, 0.2))}" fill="none" stroke="${colour}" stroke-width="${f(leg)}"/>`,
      );
    }
  }
  for (const side of [-1, 1]) {
    parts.push(`<polyline points="0.45,0 ${f(0.6 + rng.uniform(0, 0.1))},${f(side * 0.1)} ${f(0.7 + rng.uniform(0, 0.1))},${f(side * rng.uniform(0.15, 0.3))}" fill="none" stroke="${colour}" stroke-width="${f(leg * 0.8)}"/>`);
  }
  parts.push(`<ellipse cx="-0.35" cy="0" rx="${f(rng.uniform(0.16, 0.24))}" ry="${f(rng.uniform(0.1, 0.16))}" fill="${colour}"/>`);
  parts.push(`<ellipse cx="0.02" cy="0" rx="${f(rng.uniform(0.1, 0.15))}" ry="${f(rng.uniform(0.05, 0.08))}" fill="${colour}"/>`);
  parts.push(`<circle cx="0.38" cy="0" r="${f(rng.uniform(0.08, 0.12))}" fill="${colour}"/>`);
  return parts.join('');
}

/** Leaves in front of the insect now and then, so part of it is hidden. */
function occluders(rng: Rng, size: number): string {
  const parts: string[] = [];
  for (let i = 0, n = rng.next() < 0.4 ? 1 + rng.int(2) : 0; i < n; i++) {
    const r = size * rng.uniform(0.08, 0.18);
    parts.push(
      `<ellipse cx="${f(rng.uniform(0, size))}" cy="${f(rng.uniform(0, size))}" rx="${f(r)}" ry="${f(r * rng.uniform(0.4, 0.8))}" fill="${hsl(rng.uniform(70, 150), rng.uniform(20, 60), rng.uniform(25, 55), rng.uniform(0.7, 0.95))}"/>`,
    );
  }
  return parts.join('');
}

/** The SVG of one image of `cls`; exported for tests. */
export function demoImageSvg(cls: (typeof DEMO_CLASSES)[number], rng: Rng, size: number): string {
  const scale = size * rng.uniform(0.25, 0.7);
  const cx = size * rng.uniform(0.3, 0.7);
  const cy = size * rng.uniform(0.3, 0.7);
  const body = cls === 'bees' ? bee(rng) : ant(rng);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">` +
    background(rng, size) +
    `<g transform="translate(${f(cx)} ${f(cy)}) rotate(${f(rng.uniform(0, 360))}) scale(${f(scale)})">${body}</g>` +
    occluders(rng, size) +
    `</svg>`
  );
}

/** Writes <dir>/{train,val}/{ants,bees}/*.jpg; refuses a non-empty dataset folder unless overwrite. */
export async function generateDemoDataset(dir: string, options: DemoDatasetOptions = {}): Promise<DemoDatasetSummary> {
  const seed = options.seed ?? 0;
  const trainPerClass = options.trainPerClass ?? 60;
  const valPerClass = options.valPerClass ?? 40;
  const size = options.imageSize ?? 96;
  const quality = options.quality ?? 90;
  for (const [name, v] of Object.entries({ trainPerClass, valPerClass, imageSize: size, quality })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (size < 16 || size > 2048) throw new RangeError(`imageSize must be within 16..2048, got ${size}`);
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.includes('train') || existing.includes('val')) {
    if (!options.overwrite) throw new Error(`${dir} already holds a dataset (train/ or val/); choose an empty folder or overwrite`);
    await rm(join(dir, 'train'), { recursive: true, force: true });
    await rm(join(dir, 'val'), { recursive: true, force: true });
  }
  const root = new Rng(seed);
  const summary: DemoDatasetSummary = { root: dir, classes: [...DEMO_CLASSES], train: {}, val: {}, imageSize: size, seed, files: 0, bytes: 0 };
  for (const [splitIndex, split] of (['train', 'val'] as const).entries()) {
    const count = split === 'train' ? trainPerClass : valPerClass;
    for (const [classIndex, cls] of DEMO_CLASSES.entries()) {
      const folder = join(dir, split, cls);
      await mkdir(folder, { recursive: true });
      // One stream per (split, class): changing train counts leaves val images unchanged.
      const rng = root.fork(splitIndex * 16 + classIndex);
      for (let i = 0; i < count; i++) {
        const jpeg = await sharp(Buffer.from(demoImageSvg(cls, rng, size)))
          .flatten({ background: '#808080' })
          .jpeg({ quality, chromaSubsampling: '4:4:4' })
          .toBuffer();
        await writeFile(join(folder, `${cls.slice(0, -1)}_${String(i).padStart(4, '0')}.jpg`), jpeg);
        summary.files++;
        summary.bytes += jpeg.length;
      }
      summary[split][cls] = count;
    }
  }
  return summary;
}
