import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError, DecodedImageCache, loadImageFolder } from './index.js';

const IMAGES = join(process.cwd(), 'test/fixtures/images');
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'imagefolder-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, fixture = 'tiny-20x13.png'): Promise<void> {
  const dest = join(root, rel);
  await mkdir(join(dest, '..'), { recursive: true });
  await copyFile(join(IMAGES, fixture), dest);
}

it('orders classes and files like torchvision and decodes each file once per cache', async () => {
  await put('train/bees/b.PNG');
  await put('train/bees/a.jpeg', 'photo-97x75.jpg');
  await put('train/ants/z.png');
  await put('train/ants/sub/a.png');
  await put('train/ants/B.png');
  await writeFile(join(root, 'train/ants/notes.txt'), 'not an image');
  await put('val/ants/x.png');
  await put('val/bees/y.jpg', 'grey-61x64.jpg');
  const cache = new DecodedImageCache();
  const ds = await loadImageFolder(root, { cache });
  expect(ds.classes).toEqual(['ants', 'bees']);
  // sorted(os.walk()): files of ants/ (B < z by code point) before ants/sub/.
  expect(ds.train.map((s) => [s.path.slice(root.length + 1), s.label])).toEqual([
    ['train/ants/B.png', 0],
    ['train/ants/z.png', 0],
    ['train/ants/sub/a.png', 0],
    ['train/bees/a.jpeg', 1],
    ['train/bees/b.PNG', 1],
  ]);
  expect(ds.val.map((s) => s.label)).toEqual([0, 1]);
  expect(ds.train[3]!.image).toMatchObject({ width: 97, height: 75 });
  expect(ds.val[1]!.image.data.length).toBe(61 * 64 * 3);
  expect(cache.decodeCount).toBe(7);
  await loadImageFolder(root, { cache });
  expect(cache.decodeCount).toBe(7);
});

it('evicts least recently used images beyond maxBytes', async () => {
  await put('a.png');
  await put('b.png');
  await put('c.png');
  const cache = new DecodedImageCache({ maxBytes: 2 * 20 * 13 * 3 });
  for (const f of ['a.png', 'b.png', 'a.png', 'c.png']) await cache.get(join(root, f));
  expect(cache.count).toBe(2);
  expect(cache.decodeCount).toBe(3);
  await cache.get(join(root, 'a.png'));
  expect(cache.decodeCount).toBe(3);
  await cache.get(join(root, 'b.png'));
  expect(cache.decodeCount).toBe(4);
  expect(cache.size).toBeLessThanOrEqual(cache.maxBytes);
});

it('names an unreadable image', async () => {
  await put('train/ants/a.png');
  await put('val/ants/a.png');
  await writeFile(join(root, 'train/ants/broken.jpg'), Buffer.from('definitely not a jpeg'));
  await expect(loadImageFolder(root, { cache: new DecodedImageCache() })).rejects.toThrow(/broken\.jpg/);
});

it('rejects an empty class folder, a missing split and mismatched classes', async () => {
  await put('train/ants/a.png');
  await expect(loadImageFolder(root)).rejects.toThrow(/val.*does not exist/);
  await mkdir(join(root, 'train/bees'));
  await put('val/ants/a.png');
  await put('val/bees/a.png');
  await expect(loadImageFolder(root)).rejects.toThrow(/no image files for class bees/);
  await put('train/bees/a.png');
  await put('val/wasps/a.png');
  await expect(loadImageFolder(root)).rejects.toThrow(DatasetError);
  await expect(loadImageFolder(root)).rejects.toThrow(/val classes \[ants, bees, wasps\] differ/);
  await expect(loadImageFolder(join(root, 'nope'))).rejects.toThrow(/does not exist/);
});
