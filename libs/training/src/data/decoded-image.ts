// Decoding images the way torchvision's default loader does: PIL `Image.open(f).convert('RGB')`.
// That means no EXIF auto-rotation, alpha dropped (not composited), grey replicated to RGB and no
// colour-profile conversion.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeBmp, decodeNetpbm } from './netpbm-bmp.js';

/** An RGB image, 8 bits per channel, rows top to bottom, HWC (data.length = width*height*3). */
export interface DecodedImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`cannot decode image ${file}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

/** Decodes a JPEG/PNG/WebP/TIFF/BMP/PPM/PGM file (or its bytes) to RGB uint8. */
export async function decodeImage(file: string, input?: Buffer): Promise<DecodedImage> {
  if (/\.(bmp|ppm|pgm)$/i.test(file)) {
    try {
      const bytes = input ?? (await readFile(file));
      const img = decodeBmp(bytes) ?? decodeNetpbm(bytes);
      if (img) return img;
    } catch (err) {
      throw new ImageDecodeError(file, err instanceof Error ? err.message : String(err));
    }
    // Not actually BMP/PNM: let sharp try whatever it is.
  }
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    // ignoreIcc: sharp would otherwise convert through an embedded ICC profile; PIL never does.
    // No rotate()/autoOrient: EXIF orientation stays unapplied, as with PIL.
    raw = await sharp(input ?? file, { failOn: 'error', limitInputPixels: 1 << 28, ignoreIcc: true })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageDecodeError(file, err instanceof Error ? err.message : String(err));
  }
  const { width, height, channels } = raw.info;
  const src = raw.data;
  const n = width * height;
  if (channels === 3) return { width, height, data: new Uint8Array(src.buffer, src.byteOffset, n * 3) };
  const out = new Uint8Array(n * 3);
  if (channels === 4) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      out[i * 3] = src[j]!;
      out[i * 3 + 1] = src[j + 1]!;
      out[i * 3 + 2] = src[j + 2]!;
    }
  } else if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) {
      const v = src[i * channels]!;
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    }
  } else {
    throw new ImageDecodeError(file, `unsupported channel count ${channels}`);
  }
  return { width, height, data: out };
}
