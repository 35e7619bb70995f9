// Datasets and input transforms: ImageFolder loading with a shared decoded-image cache, the
// tutorial's torchvision transforms (PIL-exact resizing), and the procedural datasets (the ants/bees
// demo and the shapes source for pretraining). Reads image files only; never writes anything except
// the output folder of generateDemoDataset / generateShapesDataset.
export { decodeImage, ImageDecodeError } from './decoded-image.js';
export type { DecodedImage } from './decoded-image.js';
export { DecodedImageCache, DEFAULT_DECODED_CACHE_BYTES, sharedDecodedImageCache } from './decoded-image-cache.js';
export type { DecodedImageCacheOptions } from './decoded-image-cache.js';
export { DatasetError, IMG_EXTENSIONS, loadImageFolder } from './image-folder.js';
export type { ImageFolderDataset, LabeledImage, LoadImageFolderOptions } from './image-folder.js';
export { pilResizeBilinear } from './pil-resample.js';
export type { OutputWindow, PixelBox } from './pil-resample.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  normaliseInto,
  randomResizedCropBox,
  resizeCenterCrop,
  resizedCrop,
  roundHalfEven,
  trainTransform,
  valTransform,
} from './transforms.js';
export type { RandomResizedCropOptions } from './transforms.js';
export { DEMO_CLASSES, demoImageSvg, generateDemoDataset } from './demo-dataset.js';
export type { DemoDatasetOptions, DemoDatasetSummary } from './demo-dataset.js';
export { SHAPES_CLASSES, generateShapesDataset, shapeSvg, shapesImageSvg } from './shapes-dataset.js';
export type { ShapesClass, ShapesDatasetOptions, ShapesDatasetSummary } from './shapes-dataset.js';
