// A procedurally drawn *source* dataset for pretraining a backbone offline: 14 classes of abstract
// shapes and textures (discs, rings, polygons, stars, crosses, stripes, checkers, dots, bead chains,
// zigzags, line bursts...) on the same cluttered backgrounds as the ants/bees demo dataset, with
// random pose, scale and colours. None of its classes is an insect, yet it exercises the low-level
// features the demo's target needs (edges, bands, blobs in a row, thin strokes, colour against
// clutter), so a ResNet18 trained on it transfers to ants/bees the way ImageNet features do in the
// tutorial, only weaker. Same seed, same options: byte-identical JPEGs.
import type { Rng } from '../rng.js';
import { background, f, hsl, occluders, proceduralFolderOptions, writeProceduralImageFolder, type ProceduralDatasetOptions, type ProceduralDatasetSizes, type ProceduralFolderSummary } from './procedural-svg.js';

/** Seed, counts, size, JPEG quality, overwrite. Defaults: 200 train + 30 val images per class at 48 px, seed 0, quality 90. */
export type ShapesDatasetOptions = ProceduralDatasetOptions;

const DEFAULT_SIZES: ProceduralDatasetSizes = { trainPerClass: 200, valPerClass: 30, imageSize: 48 };

export type ShapesDatasetSummary = ProceduralFolderSummary;

export const SHAPES_CLASSES = [
  'disc',
  'ring',
  'square',
  'triangle',
  'hexagon',
  'star',
  'cross',
  'crescent',
  'stripes',
  'checker',
  'dots',
  'beads',
  'zigzag',
  'burst',
] as const;
export type ShapesClass = (typeof SHAPES_CLASSES)[number];

/** A saturated or dark random colour, and a second one that contrasts with it in lightness. */
function colourPair(rng: Rng): [string, string] {
  const hue = rng.uniform(0, 360);
  const light = rng.uniform(10, 80);
  const other = light > 45 ? rng.uniform(5, light - 30) : rng.uniform(light + 30, 95);
  return [hsl(hue, rng.uniform(30, 100), light), hsl(hue + rng.uniform(-180, 180), rng.uniform(20, 100), other)];
}

function polygon(points: readonly (readonly [number, number])[], fill: string): string {
  return `<polygon points="${points.map(([x, y]) => `${f(x)},${f(y)}`).join(' ')}" fill="${fill}"/>`;
}

function regular(n: number, r: number, phase = 0): [number, number][] {
  return Array.from({ length: n }, (_, i) => {
    const a = phase + (2 * Math.PI * i) / n;
    return [r * Math.cos(a), r * Math.sin(a)];
  });
}

/** One object of `cls` drawn around (0,0) within about [-0.5, 0.5]^2 (SVG elements); exported for tests. */
export function shapeSvg(cls: ShapesClass, rng: Rng): string {
  const [main, second] = colourPair(rng);
  switch (cls) {
    case 'disc':
      return `<ellipse cx="0" cy="0" rx="0.45" ry="${f(rng.uniform(0.3, 0.45))}" fill="${main}"/>`;
    case 'ring':
      return `<circle cx="0" cy="0" r="0.36" fill="none" stroke="${main}" stroke-width="${f(rng.uniform(0.08, 0.16))}"/>`;
    case 'square':
      return `<rect x="-0.38" y="${f(-rng.uniform(0.28, 0.38))}" width="0.76" height="${f(2 * rng.uniform(0.28, 0.38))}" fill="${main}"/>`;
    case 'triangle':
      return polygon(regular(3, 0.5, -Math.PI / 2), main);
    case 'hexagon':
      return polygon(regular(6, 0.45), main);
    case 'star': {
      const points = 5 + rng.int(3);
      const inner = rng.uniform(0.15, 0.25);
      return polygon(
        Array.from({ length: 2 * points }, (_, i) => {
          const a = (Math.PI * i) / points;
          const r = i % 2 === 0 ? 0.5 : inner;
          return [r * Math.cos(a), r * Math.sin(a)] as const;
        }),
        main,
      );
    }
    case 'cross': {
      const w = rng.uniform(0.1, 0.16);
      return `<rect x="-0.45" y="${f(-w)}" width="0.9" height="${f(2 * w)}" fill="${main}"/><rect x="${f(-w)}" y="-0.45" width="${f(2 * w)}" height="0.9" fill="${main}"/>`;
    }
    case 'crescent': {
      const mask = `crescent${rng.int(1_000_000)}`;
      return (
        `<mask id="${mask}"><rect x="-1" y="-1" width="2" height="2" fill="white"/><circle cx="${f(rng.uniform(0.15, 0.3))}" cy="0" r="0.4" fill="black"/></mask>` +
        `<circle cx="0" cy="0" r="0.45" fill="${main}" mask="url(#${mask})"/>`
      );
    }
    case 'stripes': {
      // Parallel bands across a rounded patch: the texture, not the outline, is the class.
      const clip = `stripes${rng.int(1_000_000)}`;
      const bands = 3 + rng.int(4);
      const parts: string[] = [];
      for (let i = 0; i < bands; i++) {
        const x = -0.5 + (i + 0.5) / bands;
        parts.push(`<rect x="${f(x - 0.25 / bands)}" y="-0.5" width="${f(0.5 / bands)}" height="1" fill="${second}"/>`);
      }
      const shapeSvg = rng.next() < 0.5 ? `<ellipse cx="0" cy="0" rx="0.48" ry="${f(rng.uniform(0.25, 0.45))}"/>` : `<rect x="-0.42" y="-0.35" width="0.84" height="0.7"/>`;
      return `<clipPath id="${clip}">${shapeSvg}</clipPath><g clip-path="url(#${clip})"><rect x="-0.5" y="-0.5" width="1" height="1" fill="${main}"/>${parts.join('')}</g>`;
    }
    case 'checker': {
      const n = 3 + rng.int(3);
      const cell = 0.8 / n;
      const parts = [`<rect x="-0.4" y="-0.4" width="0.8" height="0.8" fill="${main}"/>`];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if ((i + j) % 2 === 0) parts.push(`<rect x="${f(-0.4 + i * cell)}" y="${f(-0.4 + j * cell)}" width="${f(cell)}" height="${f(cell)}" fill="${second}"/>`);
      return parts.join('');
    }
    case 'dots': {
      const parts: string[] = [];
      for (let i = 0, n = 7 + rng.int(8); i < n; i++) {
        parts.push(`<circle cx="${f(rng.uniform(-0.42, 0.42))}" cy="${f(rng.uniform(-0.42, 0.42))}" r="${f(rng.uniform(0.04, 0.07))}" fill="${rng.next() < 0.5 ? main : second}"/>`);
      }
      return parts.join('');
    }
    case 'beads': {
      // Three to five touching blobs in a row.
      const n = 3 + rng.int(3);
      const r = 0.5 / n;
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(`<ellipse cx="${f(-0.5 + r + 2 * r * i)}" cy="${f(rng.uniform(-0.04, 0.04))}" rx="${f(r * rng.uniform(0.9, 1.1))}" ry="${f(r * rng.uniform(0.6, 1))}" fill="${main}"/>`);
      return parts.join('');
    }
    case 'zigzag': {
      const n = 4 + rng.int(4);
      const amp = rng.uniform(0.15, 0.3);
      const points = Array.from({ length: n + 1 }, (_, i) => `${f(-0.45 + (0.9 * i) / n)},${f(i % 2 === 0 ? -amp : amp)}`).join(' ');
      return `<polyline points="${points}" fill="none" stroke="${main}" stroke-width="${f(rng.uniform(0.05, 0.1))}" stroke-linejoin="miter"/>`;
    }
    case 'burst': {
      // Thin bent strokes from a small hub, like legs without a body.
      const parts: string[] = [];
      const width = rng.uniform(0.02, 0.04);
      for (let i = 0, n = 5 + rng.int(4); i < n; i++) {
        const a = rng.uniform(0, 2 * Math.PI);
        const k = rng.uniform(0.2, 0.3);
        const b = a + rng.uniform(-0.6, 0.6);
        parts.push(
          `<polyline points="0,0 ${f(k * Math.cos(a))},${f(k * Math.sin(a))} ${f(k * Math.cos(a) + 0.2 * Math.cos(b))},${f(k * Math.sin(a) + 0.2 * Math.sin(b))}" fill="none" stroke="${main}" stroke-width="${f(width)}"/>`,
        );
      }
      return `${parts.join('')}<circle cx="0" cy="0" r="0.05" fill="${main}"/>`;
    }
  }
}

/** The SVG of one image of `cls`; exported for tests. */
export function shapesImageSvg(cls: ShapesClass, rng: Rng, size: number): string {
  const scale = size * rng.uniform(0.35, 0.8);
  const cx = size * rng.uniform(0.3, 0.7);
  const cy = size * rng.uniform(0.3, 0.7);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">` +
    background(rng, size) +
    `<g transform="translate(${f(cx)} ${f(cy)}) rotate(${f(rng.uniform(0, 360))}) scale(${f(scale)})">${shapeSvg(cls, rng)}</g>` +
    occluders(rng, size) +
    `</svg>`
  );
}

/** Writes <dir>/{train,val}/<shape>/*.jpg; refuses a non-empty dataset folder unless overwrite. */
export async function generateShapesDataset(dir: string, options: ShapesDatasetOptions = {}): Promise<ShapesDatasetSummary> {
  const classes = SHAPES_CLASSES.map((name) => ({ name, filePrefix: name }));
  return writeProceduralImageFolder(dir, classes, (i, rng, size) => shapesImageSvg(SHAPES_CLASSES[i]!, rng, size), proceduralFolderOptions(options, DEFAULT_SIZES));
}
