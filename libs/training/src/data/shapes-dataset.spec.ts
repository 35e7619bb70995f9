import { readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../rng.js';
import { DecodedImageCache, SHAPES_CLASSES, generateShapesDataset, loadImageFolder, shapeSvg } from './index.js';

const dirs: string[] = [];
async function fresh(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'shapes-ds-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it('writes 14 classes in the ImageFolder layout, byte-identical for the same seed', async () => {
  const a = await fresh();
  const b = await fresh();
  const opts = { seed: 3, trainPerClass: 2, valPerClass: 1, imageSize: 32 };
  const summary = await generateShapesDataset(a, opts);
  await generateShapesDataset(b, opts);
  expect(SHAPES_CLASSES.length).toBeGreaterThanOrEqual(10);
  expect(summary).toMatchObject({ classes: [...SHAPES_CLASSES], files: SHAPES_CLASSES.length * 3, imageSize: 32 });
  const ds = await loadImageFolder(a, { cache: new DecodedImageCache() });
  expect(ds.classes).toEqual([...SHAPES_CLASSES].sort());
  expect(ds.train).toHaveLength(SHAPES_CLASSES.length * 2);
  expect(ds.val).toHaveLength(SHAPES_CLASSES.length);
  for (const s of [...ds.train, ...ds.val]) {
    expect(s.image).toMatchObject({ width: 32, height: 32 });
    expect((await readFile(join(b, s.path.slice(a.length)))).equals(await readFile(s.path))).toBe(true);
  }
});

it('differs for another seed, keeps val when the train count changes, refuses to overwrite unless asked', async () => {
  const a = await fresh();
  const b = await fresh();
  await generateShapesDataset(a, { seed: 1, trainPerClass: 1, valPerClass: 1, imageSize: 32 });
  await generateShapesDataset(b, { seed: 1, trainPerClass: 3, valPerClass: 1, imageSize: 32 });
  expect((await readFile(join(a, 'val/star/star_0000.jpg'))).equals(await readFile(join(b, 'val/star/star_0000.jpg')))).toBe(true);
  const first = await readFile(join(a, 'train/star/star_0000.jpg'));
  await expect(generateShapesDataset(a, { seed: 2, trainPerClass: 1, valPerClass: 1, imageSize: 32 })).rejects.toThrow(/already holds a dataset/);
  await generateShapesDataset(a, { seed: 2, trainPerClass: 1, valPerClass: 1, imageSize: 32, overwrite: true });
  expect((await readFile(join(a, 'train/star/star_0000.jpg'))).equals(first)).toBe(false);
});

/**
 * The object of `cls` alone at a fixed pose as a 0/1 mask of side `size`: its first colour black,
 * any second colour white like the background, so textures (bands, checks) stay visible.
 */
async function silhouette(cls: (typeof SHAPES_CLASSES)[number], seed: number, size = 48): Promise<Uint8Array> {
  const colours = [...new Set(shapeSvg(cls, new Rng(seed)).match(/hsla\([^)]*\)/g) ?? [])];
  const body = shapeSvg(cls, new Rng(seed)).replace(/hsla\([^)]*\)/g, (c) => (c === colours[0] ? 'black' : 'white'));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="white"/><g transform="translate(${size / 2} ${size / 2}) scale(${size * 0.9})">${body}</g></svg>`;
  const raw = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
  return Uint8Array.from(raw, (v) => (v < 128 ? 1 : 0));
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    both += a[i]! & b[i]!;
    either += a[i]! | b[i]!;
  }
  return both / either;
}

it('draws a different object for every class: no two silhouettes overlap like one shape', async () => {
  for (const seed of [0, 1]) {
    const masks = await Promise.all(SHAPES_CLASSES.map((cls) => silhouette(cls, seed)));
    for (const m of masks) expect(m.reduce((n, v) => n + v, 0)).toBeGreaterThan(20);
    for (let i = 0; i < masks.length; i++) {
      for (let j = i + 1; j < masks.length; j++) {
        const overlap = iou(masks[i]!, masks[j]!);
        // Different shapes overlap a lot at the same pose (a disc in its square: pi/4 = 0.79, a
        // hexagon in its circle: 0.83); one class drawing another's shape would come close to 1.
        if (overlap > 0.9) throw new Error(`${SHAPES_CLASSES[i]} and ${SHAPES_CLASSES[j]} look alike (IoU ${overlap.toFixed(2)}, seed ${seed})`);
      }
    }
  }
});

it('rejects nonsensical sizes', async () => {
  await expect(generateShapesDataset(await fresh(), { trainPerClass: 0 })).rejects.toThrow(/trainPerClass/);
  await expect(generateShapesDataset(await fresh(), { imageSize: 8 })).rejects.toThrow(/imageSize/);
});
