// A port of Pillow's ImagingResample (src/libImaging/Resample.c, Pillow 9.x) for 8-bit RGB with the
// BILINEAR filter, so our resized pixels equal what torchvision gets from PIL's Image.resize:
// an antialiased separable resampling (triangle filter whose support grows with the downscale
// factor), coefficients normalised and turned into 22-bit fixed point, rounding after each pass,
// horizontal pass first. The arithmetic mirrors the C code step by step; do not "simplify" it.
import { DecodedImage } from './decoded-image.js';

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const CLIP_MAX = 1 << PRECISION_BITS << 8;

/** A pixel rectangle (integers) of a source image. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

interface Coeffs {
  ksize: number;
  /** Per output pixel: first source index, number of taps. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  kk: Int32Array;
}

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

/** precompute_coeffs + normalize_coeffs_8bpc for in0 = 0, in1 = inSize. */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let ww = 0;
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = bilinearFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax ? (ww !== 0 ? k[x]! / ww : k[x]!) : 0;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  if (v >= CLIP_MAX) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/** Which part of the (virtual) resized image to produce; default all of it. */
export interface OutputWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * `img.crop(box).resize((outWidth, outHeight), Image.BILINEAR)` in PIL, returning only the pixels
 * of `window` (every output pixel depends only on its own row and column coefficients, so cropping
 * the result afterwards gives the same bytes as computing just the window).
 */
export function pilResizeBilinear(img: DecodedImage, box: PixelBox, outWidth: number, outHeight: number, window?: OutputWindow): DecodedImage {
  const win = window ?? { left: 0, top: 0, width: outWidth, height: outHeight };
  if (box.left < 0 || box.top < 0 || box.width <= 0 || box.height <= 0 || box.left + box.width > img.width || box.top + box.height > img.height) {
    throw new RangeError(`crop box ${JSON.stringify(box)} is outside the ${img.width}x${img.height} image`);
  }
  if (win.left < 0 || win.top < 0 || win.left + win.width > outWidth || win.top + win.height > outHeight) {
    throw new RangeError(`output window ${JSON.stringify(win)} is outside ${outWidth}x${outHeight}`);
  }
  const src = img.data;
  const srcStride = img.width * 3;
  const needH = outWidth !== box.width;
  const needV = outHeight !== box.height;
  const horiz = precomputeCoeffs(box.width, outWidth);
  const vert = precomputeCoeffs(box.height, outHeight);

  // Source rows the window's output rows read (PIL's ybox_first/ybox_last, restricted to the window).
  let rowFirst: number;
  let rowLast: number;
  if (needV) {
    rowFirst = vert.bounds[win.top * 2]!;
    const lastRow = win.top + win.height - 1;
    rowLast = vert.bounds[lastRow * 2]! + vert.bounds[lastRow * 2 + 1]!;
  } else {
    rowFirst = win.top;
    rowLast = win.top + win.height;
  }

  // Horizontal pass over the needed rows, window columns only: tmp is (rowLast-rowFirst) x win.width.
  const tmpRows = rowLast - rowFirst;
  const tmp = new Uint8Array(tmpRows * win.width * 3);
  const hBounds = horiz.bounds;
  const hKk = horiz.kk;
  const hK = horiz.ksize;
  const winW = win.width;
  for (let y = 0; y < tmpRows; y++) {
    const rowOff = (box.top + rowFirst + y) * srcStride + box.left * 3;
    let o = y * winW * 3;
    for (let xo = 0; xo < winW; xo++, o += 3) {
      const xx = win.left + xo;
      if (!needH) {
        const s = rowOff + xx * 3;
        tmp[o] = src[s]!;
        tmp[o + 1] = src[s + 1]!;
        tmp[o + 2] = src[s + 2]!;
        continue;
      }
      const xmax = hBounds[xx * 2 + 1]!;
      let k = xx * hK;
      let ss0 = HALF;
      let ss1 = HALF;
      let ss2 = HALF;
      // Sums stay below 2^31 (weights sum to ~2^22, samples <= 255), so int32 arithmetic is exact.
      for (let x = 0, s = rowOff + hBounds[xx * 2]! * 3; x < xmax; x++, s += 3, k++) {
        const w = hKk[k]!;
        ss0 = (ss0 + Math.imul(src[s]!, w)) | 0;
        ss1 = (ss1 + Math.imul(src[s + 1]!, w)) | 0;
        ss2 = (ss2 + Math.imul(src[s + 2]!, w)) | 0;
      }
      tmp[o] = clip8(ss0);
      tmp[o + 1] = clip8(ss1);
      tmp[o + 2] = clip8(ss2);
    }
  }
  if (!needV) return { width: win.width, height: win.height, data: tmp };

  const out = new Uint8Array(win.width * win.height * 3);
  const tmpStride = winW * 3;
  const vBounds = vert.bounds;
  const vKk = vert.kk;
  const vK = vert.ksize;
  for (let yo = 0; yo < win.height; yo++) {
    const yy = win.top + yo;
    const rowStart = (vBounds[yy * 2]! - rowFirst) * tmpStride;
    const ymax = vBounds[yy * 2 + 1]!;
    const kOff = yy * vK;
    let o = yo * tmpStride;
    for (let xo = 0; xo < winW; xo++, o += 3) {
      let ss0 = HALF;
      let ss1 = HALF;
      let ss2 = HALF;
      for (let y = 0, s = rowStart + xo * 3; y < ymax; y++, s += tmpStride) {
        const w = vKk[kOff + y]!;
        ss0 = (ss0 + Math.imul(tmp[s]!, w)) | 0;
        ss1 = (ss1 + Math.imul(tmp[s + 1]!, w)) | 0;
        ss2 = (ss2 + Math.imul(tmp[s + 2]!, w)) | 0;
      }
      out[o] = clip8(ss0);
      out[o + 1] = clip8(ss1);
      out[o + 2] = clip8(ss2);
    }
  }
  return { width: win.width, height: win.height, data: out };
}
