import { readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecodedImageCache, generateDemoDataset, loadImageFolder } from './index.js';

const dirs: string[] = [];
async function fresh(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'demo-ds-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it('writes the hymenoptera layout that loadImageFolder reads, identical for the same seed', async () => {
  const a = await fresh();
  const b = await fresh();
  const opts = { seed: 4, trainPerClass: 3, valPerClass: 2, imageSize: 48 };
  const summary = await generateDemoDataset(a, opts);
  await generateDemoDataset(b, opts);
  expect(summary).toMatchObject({ classes: ['ants', 'bees'], train: { ants: 3, bees: 3 }, val: { ants: 2, bees: 2 }, files: 10, imageSize: 48 });
  const ds = await loadImageFolder(a, { cache: new DecodedImageCache() });
  expect(ds.classes).toEqual(['ants', 'bees']);
  expect(ds.train.map((s) => s.label)).toEqual([0, 0, 0, 1, 1, 1]);
  expect(ds.val).toHaveLength(4);
  expect(ds.train[0]!.image).toMatchObject({ width: 48, height: 48 });
  for (const s of [...ds.train, ...ds.val]) {
    const rel = s.path.slice(a.length);
    expect((await readFile(join(b, rel))).equals(await readFile(s.path))).toBe(true);
  }
});

it('differs for another seed and refuses to overwrite unless asked', async () => {
  const a = await fresh();
  await generateDemoDataset(a, { seed: 1, trainPerClass: 1, valPerClass: 1, imageSize: 32 });
  const first = await readFile(join(a, 'train/bees/bee_0000.jpg'));
  await expect(generateDemoDataset(a, { seed: 2, trainPerClass: 1, valPerClass: 1, imageSize: 32 })).rejects.toThrow(/already holds a dataset/);
  await generateDemoDataset(a, { seed: 2, trainPerClass: 1, valPerClass: 1, imageSize: 32, overwrite: true });
  expect((await readFile(join(a, 'train/bees/bee_0000.jpg'))).equals(first)).toBe(false);
});

it('rejects nonsensical sizes', async () => {
  await expect(generateDemoDataset(await fresh(), { trainPerClass: 0 })).rejects.toThrow(/trainPerClass/);
  await expect(generateDemoDataset(await fresh(), { imageSize: 8 })).rejects.toThrow(/imageSize/);
});
