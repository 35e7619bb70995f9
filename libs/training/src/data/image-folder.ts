// torchvision.datasets.ImageFolder for the tutorial's layout: <root>/train/<class>/* and
// <root>/val/<class>/*, with torchvision's class and file ordering, decoded through a shared cache.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DecodedImage } from './decoded-image.js';
import { DecodedImageCache, sharedDecodedImageCache } from './decoded-image-cache.js';

/** torchvision.datasets.folder.IMG_EXTENSIONS (matched case-insensitively, like torchvision). */
export const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'] as const;

export interface LabeledImage {
  path: string;
  /** Index into `classes`. */
  label: number;
  image: DecodedImage;
}

export interface ImageFolderDataset {
  root: string;
  /** Sorted class folder names of train/ (val/ must have the same). */
  classes: string[];
  train: LabeledImage[];
  val: LabeledImage[];
}

export interface LoadImageFolderOptions {
  /** Where decoded images are kept between loads. Default: the process-wide shared cache (2 GiB). */
  cache?: DecodedImageCache;
  /** Files decoded at the same time. Default 4 */
  concurrency?: number;
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** Python's sorted() order on str: by code point (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Class folders of one split: sorted(entry.name for entry in os.scandir(dir) if entry.is_dir()). */
async function findClasses(dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) throw new DatasetError(`dataset split folder ${dir} does not exist`);
  const names = await readdir(dir);
  const classes: string[] = [];
  for (const name of names) if (await isDirectory(join(dir, name))) classes.push(name);
  classes.sort(compareCodePoints);
  if (classes.length === 0) throw new DatasetError(`no class folders found in ${dir}`);
  return classes;
}

function isImageFile(name: string): boolean {
  return (IMG_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** Image files under a class folder in the order of sorted(os.walk(dir, followlinks=True)). */
async function listImages(classDir: string): Promise<string[]> {
  const walked: { dir: string; files: string[] }[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (depth > 32) throw new DatasetError(`${dir}: folders nested too deep (a symlink loop?)`);
    const files: string[] = [];
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const st = await stat(full).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) await visit(full, depth + 1);
      else if (isImageFile(name)) files.push(name);
    }
    walked.push({ dir, files: files.sort(compareCodePoints) });
  };
  await visit(classDir, 0);
  walked.sort((a, b) => compareCodePoints(a.dir, b.dir));
  return walked.flatMap(({ dir, files }) => files.map((f) => join(dir, f)));
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

async function loadSplit(root: string, split: 'train' | 'val', classes: string[], options: LoadImageFolderOptions): Promise<LabeledImage[]> {
  const files: { path: string; label: number }[] = [];
  const empty: string[] = [];
  for (const [label, cls] of classes.entries()) {
    const paths = await listImages(join(root, split, cls));
    if (paths.length === 0) empty.push(cls);
    for (const path of paths) files.push({ path, label });
  }
  if (empty.length > 0) {
    throw new DatasetError(`${join(root, split)}: no image files for class ${empty.join(', ')} (supported extensions: ${IMG_EXTENSIONS.join(', ')})`);
  }
  const cache = options.cache ?? sharedDecodedImageCache();
  return mapLimit(files, options.concurrency ?? 4, async ({ path, label }) => ({ path, label, image: await cache.get(path) }));
}

/** Loads and decodes both splits; classes come from train/ and val/ must have the same ones. */
export async function loadImageFolder(root: string, options: LoadImageFolderOptions = {}): Promise<ImageFolderDataset> {
  if (!(await isDirectory(root))) throw new DatasetError(`dataset folder ${root} does not exist`);
  const classes = await findClasses(join(root, 'train'));
  const valClasses = await findClasses(join(root, 'val'));
  if (valClasses.join('\0') !== classes.join('\0')) {
    throw new DatasetError(`${root}: val classes [${valClasses.join(', ')}] differ from train classes [${classes.join(', ')}]`);
  }
  const train = await loadSplit(root, 'train', classes, options);
  const val = await loadSplit(root, 'val', classes, options);
  return { root, classes, train, val };
}
