// Decoders for the IMG_EXTENSIONS torchvision accepts that sharp cannot read: binary PPM/PGM
// (P6/P5, 8-bit) and uncompressed BMP (24/32-bit, 8-bit palette). Output as PIL convert('RGB').
import type { DecodedImage } from './decoded-image.js';

/** Decodes P5/P6 with maxval 255, or returns null when `buf` is not such a file. */
export function decodeNetpbm(buf: Uint8Array): DecodedImage | null {
  if (buf.length < 3 || buf[0] !== 0x50 || (buf[1] !== 0x35 && buf[1] !== 0x36)) return null;
  const grey = buf[1] === 0x35;
  let pos = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]!))) pos++;
    if (buf[pos] === 0x23) {
      while (pos < buf.length && buf[pos] !== 0x0a) pos++;
      continue;
    }
    const start = pos;
    while (pos < buf.length && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) pos++;
    if (pos === start) throw new Error('bad PNM header');
    fields.push(Number(new TextDecoder().decode(buf.subarray(start, pos))));
  }
  pos++; // exactly one whitespace byte ends the header
  const [width, height, maxval] = fields as [number, number, number];
  if (maxval !== 255) throw new Error(`PNM maxval ${maxval} is not supported (only 8-bit, maxval 255)`);
  const n = width * height;
  if (width < 1 || height < 1 || pos + n * (grey ? 1 : 3) > buf.length) throw new Error('PNM data is truncated');
  if (!grey) return { width, height, data: buf.slice(pos, pos + n * 3) };
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = buf[pos + i]!;
  return { width, height, data };
}

/** Decodes uncompressed BMP (BI_RGB / BI_BITFIELDS with standard masks), or null if not a BMP. */
export function decodeBmp(buf: Uint8Array): DecodedImage | null {
  if (buf.length < 54 || buf[0] !== 0x42 || buf[1] !== 0x4d) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width < 1 || height < 1) throw new Error('BMP has no pixels');
  if (!(compression === 0 || (compression === 3 && bpp === 32))) throw new Error(`BMP compression ${compression} is not supported`);
  if (bpp !== 24 && bpp !== 32 && bpp !== 8) throw new Error(`BMP with ${bpp} bits per pixel is not supported`);
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + rowBytes * height > buf.length) throw new Error('BMP data is truncated');
  let palette: Uint8Array | null = null;
  if (bpp === 8) {
    const colours = v.getUint32(46, true) || 256;
    palette = buf.subarray(14 + headerSize, 14 + headerSize + colours * 4);
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let s: number;
      let src: Uint8Array = buf;
      if (palette) {
        s = buf[row + x]! * 4;
        src = palette;
      } else {
        s = row + x * (bpp / 8);
      }
      // BMP stores BGR(A).
      data[o] = src[s + 2] ?? 0;
      data[o + 1] = src[s + 1] ?? 0;
      data[o + 2] = src[s] ?? 0;
    }
  }
  return { width, height, data };
}
