import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, ImageDecodeError } from './index.js';

const IMAGES = join(process.cwd(), 'test/fixtures/images');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pnm-bmp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it.each(['odd-27x19.bmp', 'pixmap-26x21.ppm'])('names a truncated %s', async (name) => {
  const file = join(dir, name);
  const bytes = readFileSync(join(IMAGES, name));
  await writeFile(file, bytes.subarray(0, bytes.length - 40));
  const err = await decodeImage(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ImageDecodeError);
  expect((err as Error).message).toMatch(new RegExp(`${name}: .*truncated`));
});

it('refuses 16-bit PNM with a reason', async () => {
  const file = join(dir, 'deep.pgm');
  await writeFile(file, Buffer.concat([Buffer.from('P5\n2 1\n65535\n'), Buffer.alloc(4)]));
  await expect(decodeImage(file)).rejects.toThrow(/deep\.pgm: PNM maxval 65535 is not supported/);
});
