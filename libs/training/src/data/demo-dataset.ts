// A procedurally drawn stand-in for the tutorial's hymenoptera data, for tests, demos and machines
// without the download: striped "bees" (yellow/black bands, wings) vs segmented "ants" (three dark
// blobs, thin legs) on textured random backgrounds, with random pose, scale and colours. Drawn as
// SVG and rendered by sharp, so the same seed gives byte-identical JPEG files.
// Default size: 2 classes x (60 train + 40 val) = 200 JPEGs of 96x96, about 0.75 MB on disk
// (measured ~2 s to generate). Colour statistics alone separate the classes ~71% of the time;
// shape (stripes and wings vs blobs and legs) is what makes them learnable.
import type { Rng } from '../rng.js';
import { background, f, hsl, occluders, proceduralFolderOptions, writeProceduralImageFolder, type ProceduralDatasetOptions, type ProceduralDatasetSizes, type ProceduralFolderSummary } from './procedural-svg.js';

/** Seed, counts, size, JPEG quality, overwrite. Defaults: 60 train + 40 val images per class at 96 px, seed 0, quality 90. */
export type DemoDatasetOptions = ProceduralDatasetOptions;

const DEFAULT_SIZES: ProceduralDatasetSizes = { trainPerClass: 60, valPerClass: 40, imageSize: 96 };

export type DemoDatasetSummary = ProceduralFolderSummary;

export const DEMO_CLASSES = ['ants', 'bees'] as const;

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
  const classes = DEMO_CLASSES.map((name) => ({ name, filePrefix: name.slice(0, -1) }));
  return writeProceduralImageFolder(dir, classes, (i, rng, size) => demoImageSvg(DEMO_CLASSES[i]!, rng, size), proceduralFolderOptions(options, DEFAULT_SIZES));
}
