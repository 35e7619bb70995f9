// Parity with torchvision 0.14 + Pillow 9.4 on committed images (scripts/fixtures/make-image-fixtures.py).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, normaliseInto, resizeCenterCrop, resizedCrop, valTransform } from './index.js';

const DIR = join(process.cwd(), 'test/fixtures/images');
interface Expected {
  sizes: number[];
  images: Record<
    string,
    {
      width: number;
      height: number;
      val: Record<string, { resize: number; uint8: string; tensor?: string }>;
      crops: { top: number; left: number; height: number; width: number; size: number; uint8: string }[];
    }
  >;
}
interface LargeExpected {
  file: string;
  decoded: string;
  val224: string;
  crops: { top: number; left: number; height: number; width: number; size: number; sha256: string }[];
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected & { large: LargeExpected };
const names = Object.keys(expected.images);
const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));
const floats = (b64: string): Float32Array => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

it.each(names)('%s decodes to the same RGB bytes as PIL convert("RGB")', async (name) => {
  const want = expected.images[name]!;
  const img = await decodeImage(join(DIR, name));
  const pil = await decodeImage(join(DIR, 'decoded', name.replace(/\.\w+$/, '.png')));
  expect([img.width, img.height]).toEqual([want.width, want.height]);
  expect(Buffer.from(img.data).equals(Buffer.from(pil.data))).toBe(true);
});

describe.each(names.filter((n) => expected.images[n]!.crops.length > 0))('%s', (name) => {
  const want = expected.images[name]!;

  it.each(expected.sizes)('val transform at size %i equals torchvision byte for byte', async (size) => {
    const img = await decodeImage(join(DIR, 'decoded', name.replace(/\.\w+$/, '.png')));
    const ref = want.val[String(size)]!;
    expect(Math.round((size * 256) / 224)).toBe(ref.resize);
    const got = resizeCenterCrop(img, size);
    expect([got.width, got.height]).toEqual([size, size]);
    expect(Buffer.from(got.data).equals(Buffer.from(bytes(ref.uint8)))).toBe(true);
    if (ref.tensor) {
      const out = new Float32Array(size * size * 3 + 5);
      valTransform(img, size, out, 5);
      expect(Buffer.from(out.subarray(5).buffer, 20).equals(Buffer.from(floats(ref.tensor).buffer))).toBe(true);
    }
  });

  it('crop box + resize equals PIL crop().resize(BILINEAR)', async () => {
    const img = await decodeImage(join(DIR, 'decoded', name.replace(/\.\w+$/, '.png')));
    for (const c of want.crops) {
      const got = resizedCrop(img, { top: c.top, left: c.left, width: c.width, height: c.height }, c.size);
      expect({ box: c, equal: Buffer.from(got.data).equals(Buffer.from(bytes(c.uint8))) }).toEqual({ box: c, equal: true });
    }
  });
});

it('normalises exactly like ToTensor + Normalize in float32', () => {
  const out = new Float32Array(3);
  normaliseInto({ width: 1, height: 1, data: Uint8Array.from([0, 128, 255]) }, out, 0);
  expect(out[0]).toBe(Math.fround(Math.fround(0 - Math.fround(0.485)) / Math.fround(0.229)));
  expect(out[2]).toBe(Math.fround(Math.fround(1 - Math.fround(0.406)) / Math.fround(0.225)));
});

it('matches torchvision at the real input size (500x375 JPEG -> 224) by sha256', async () => {
  const { large } = expected;
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  const img = await decodeImage(join(DIR, large.file));
  expect(sha(img.data)).toBe(large.decoded);
  expect(sha(resizeCenterCrop(img, 224).data)).toBe(large.val224);
  for (const c of large.crops) expect(sha(resizedCrop(img, c, c.size).data)).toBe(c.sha256);
});
