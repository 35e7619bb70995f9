import { Rng } from '../rng.js';
import { normaliseInto, randomResizedCropBox, resizedCrop, roundHalfEven, trainTransform } from './index.js';

describe('randomResizedCropBox', () => {
  it.each([
    [500, 375],
    [97, 75],
    [33, 71],
    [224, 224],
  ])('stays inside a %ix%i image with area and ratio within bounds', (width, height) => {
    const rng = new Rng(1);
    let fallbacks = 0;
    const bad: unknown[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = randomResizedCropBox(width, height, rng);
      if (b.left < 0 || b.top < 0 || b.left + b.width > width || b.top + b.height > height) bad.push(b);
      if (b.width === width && b.height === height) {
        fallbacks++;
        continue;
      }
      // Rounding w and h to integers moves area and ratio by at most half a pixel per side.
      const area = b.width * b.height;
      const slack = ((b.width + 0.5) / (b.width - 0.5)) * ((b.height + 0.5) / (b.height - 0.5));
      if (area < 0.08 * width * height - (b.width + b.height) / 2 - 1) bad.push({ area: b });
      if (b.width / b.height < 3 / 4 / slack || b.width / b.height > (4 / 3) * slack) bad.push({ ratio: b });
    }
    expect(bad).toEqual([]);
    expect(fallbacks).toBeLessThan(2000 * 0.1);
  });

  it('falls back to a central crop clamped to the ratio range when no attempt fits', () => {
    // 1000x10: every sampled crop is far too tall or too wide, so all 10 attempts fail.
    const rng = new Rng(3);
    expect(randomResizedCropBox(1000, 10, rng)).toEqual({ top: 0, left: Math.floor((1000 - 13) / 2), width: 13, height: 10 });
    expect(randomResizedCropBox(10, 1000, rng)).toEqual({ top: Math.floor((1000 - 13) / 2), left: 0, width: 10, height: 13 });
    expect(randomResizedCropBox(1, 1, rng)).toEqual({ top: 0, left: 0, width: 1, height: 1 });
  });

  it('covers the scale range (log-uniform ratio, uniform area)', () => {
    const rng = new Rng(5);
    const areas: number[] = [];
    let wide = 0;
    for (let i = 0; i < 4000; i++) {
      const b = randomResizedCropBox(400, 400, rng);
      areas.push((b.width * b.height) / 160000);
      if (b.width > b.height) wide++;
    }
    const mean = areas.reduce((a, b) => a + b, 0) / areas.length;
    // Uniform area on [0.08, 1] has mean 0.54; some big draws are rejected for not fitting.
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.56);
    expect(Math.min(...areas)).toBeLessThan(0.1);
    expect(wide / 4000).toBeGreaterThan(0.4);
    expect(wide / 4000).toBeLessThan(0.6);
  });

  it('is reproducible for a seed', () => {
    const boxes = (seed: number) => Array.from({ length: 5 }, ((r) => () => randomResizedCropBox(300, 200, r))(new Rng(seed)));
    expect(boxes(9)).toEqual(boxes(9));
  });
});

it('roundHalfEven rounds like Python 3', () => {
  expect([0.5, 1.5, 2.5, 3.49, -0.5, -1.5, 7].map(roundHalfEven)).toEqual([0, 2, 2, 3, -0, -2, 7]);
});

it('trainTransform = the drawn crop resized, mirrored when the flip draw is < 0.5, written at the offset', () => {
  const img = { width: 9, height: 7, data: Uint8Array.from({ length: 9 * 7 * 3 }, (_, i) => (i * 37) % 256) };
  const rng = new Rng(11);
  let flips = 0;
  for (let i = 0; i < 200; i++) {
    const replay = new Rng(0);
    replay.setState(rng.getState());
    const box = randomResizedCropBox(img.width, img.height, replay);
    const flip = replay.next() < 0.5;
    const plain = new Float32Array(4 * 4 * 3);
    normaliseInto(resizedCrop(img, box, 4), plain, 0);
    const out = new Float32Array(2 + 4 * 4 * 3 + 2).fill(42);
    trainTransform(img, 4, rng, out, 2);
    expect([out[0], out[1], out.at(-1), out.at(-2)]).toEqual([42, 42, 42, 42]);
    const got = out.subarray(2, -2);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        const sx = flip ? 3 - x : x;
        expect(Array.from(got.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3))).toEqual(Array.from(plain.subarray((y * 4 + sx) * 3, (y * 4 + sx) * 3 + 3)));
      }
    }
    expect(rng.getState()).toEqual(replay.getState());
    if (flip) flips++;
  }
  expect(flips).toBeGreaterThan(70);
  expect(flips).toBeLessThan(130);
});
