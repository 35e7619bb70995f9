// The tutorial's torchvision 0.14 transforms on PIL images, reproduced exactly:
//   train: RandomResizedCrop(size) -> RandomHorizontalFlip() -> ToTensor() -> Normalize(mean, std)
//   val:   Resize(round(size*256/224)) -> CenterCrop(size) -> ToTensor() -> Normalize(mean, std)
// Output is HWC float32 (TensorFlow.js layout), values equal to torch's CHW tensor transposed.
import type { Rng } from '../rng.js';
import { DecodedImage } from './decoded-image.js';
import { PixelBox, pilResizeBilinear } from './pil-resample.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * ToTensor + Normalize for every uint8 value of each channel, in float32 step by step like torch:
 * ((v / 255) - mean) / std with float32 mean/std.
 */
const NORMALISE_LUT = (() => {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(IMAGENET_MEAN[c]!);
    const std = Math.fround(IMAGENET_STD[c]!);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
  }
  return lut;
})();

/** Python 3's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface RandomResizedCropOptions {
  /** Default [0.08, 1.0] */
  scale?: readonly [number, number];
  /** Default [3/4, 4/3] */
  ratio?: readonly [number, number];
}

/** torchvision.transforms.RandomResizedCrop.get_params: the crop box in source pixels. */
export function randomResizedCropBox(width: number, height: number, rng: Rng, options: RandomResizedCropOptions = {}): PixelBox {
  const [scaleLo, scaleHi] = options.scale ?? [0.08, 1.0];
  const [ratioLo, ratioHi] = options.ratio ?? [3 / 4, 4 / 3];
  const area = height * width;
  // torch keeps log(ratio) and the uniform draws in float32.
  const logLo = Math.fround(Math.log(Math.fround(ratioLo)));
  const logHi = Math.fround(Math.log(Math.fround(ratioHi)));
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * Math.fround(rng.uniform(scaleLo, scaleHi));
    const aspect = Math.fround(Math.exp(Math.fround(rng.uniform(logLo, logHi))));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, width: w, height: h };
    }
  }
  // Fallback: a central crop clamped to the ratio range.
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratioLo, ratioHi)) {
    w = width;
    h = roundHalfEven(w / Math.min(ratioLo, ratioHi));
  } else if (inRatio > Math.max(ratioLo, ratioHi)) {
    h = height;
    w = roundHalfEven(h * Math.max(ratioLo, ratioHi));
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), width: w, height: h };
}

function writeNormalised(img: DecodedImage, out: Float32Array, offset: number, flip: boolean): void {
  const { width, height, data } = img;
  if (offset < 0 || offset + width * height * 3 > out.length) throw new RangeError(`output buffer too small for ${width}x${height}x3 at offset ${offset}`);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const o = offset + (y * width + (flip ? width - 1 - x : x)) * 3;
      out[o] = NORMALISE_LUT[data[s]!]!;
      out[o + 1] = NORMALISE_LUT[256 + data[s + 1]!]!;
      out[o + 2] = NORMALISE_LUT[512 + data[s + 2]!]!;
    }
  }
}

/** F.resized_crop(img, top, left, h, w, [size, size], BILINEAR) as uint8 RGB. */
export function resizedCrop(img: DecodedImage, box: PixelBox, size: number): DecodedImage {
  return pilResizeBilinear(img, box, size, size);
}

/** Resize(resizeTo) on the shorter edge, then CenterCrop(size), as uint8 RGB (PIL semantics). */
export function resizeCenterCrop(img: DecodedImage, size: number, resizeTo = Math.round((size * 256) / 224)): DecodedImage {
  const { width: w, height: h } = img;
  // torchvision's _compute_resized_output_size: the long side is int(short_req * long / short).
  const [newW, newH] = w <= h ? [resizeTo, Math.trunc((resizeTo * h) / w)] : [Math.trunc((resizeTo * w) / h), resizeTo];
  if (size > newW || size > newH) throw new RangeError(`center crop ${size} larger than the resized ${newW}x${newH} image`);
  const top = Math.trunc(roundHalfEven((newH - size) / 2));
  const left = Math.trunc(roundHalfEven((newW - size) / 2));
  return pilResizeBilinear(img, { left: 0, top: 0, width: w, height: h }, newW, newH, { left, top, width: size, height: size });
}

/**
 * RandomResizedCrop(size) + RandomHorizontalFlip(0.5) + ToTensor + Normalize, writing size*size*3
 * HWC float32 values at out[offset..]. Draws from `rng` in torchvision's order (crop, then flip).
 */
export function trainTransform(img: DecodedImage, size: number, rng: Rng, out: Float32Array, offset: number): void {
  const box = randomResizedCropBox(img.width, img.height, rng);
  const flip = rng.next() < 0.5;
  writeNormalised(resizedCrop(img, box, size), out, offset, flip);
}

/** Resize(round(size*256/224)) + CenterCrop(size) + ToTensor + Normalize into out[offset..]. */
export function valTransform(img: DecodedImage, size: number, out: Float32Array, offset: number): void {
  writeNormalised(resizeCenterCrop(img, size), out, offset, false);
}

/** ToTensor + Normalize of an already sized uint8 image (HWC float32 into out[offset..]). */
export function normaliseInto(img: DecodedImage, out: Float32Array, offset: number): void {
  writeNormalised(img, out, offset, false);
}
