// What a long-lived worker keeps between runs: decoded images (bounded by bytes) and parsed state
// dicts (bounded by count, keyed by path + size + mtime so a replaced file is read again).
// Comparing strategies on one dataset then decodes each image and parses the .pth once.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DecodedImageCache, loadImageFolder, type ImageFolderDataset } from '../data/index.js';
import { loadStateDict, type StateDict } from '../weights/index.js';

/** Options of {@link EngineCache}. */
export interface EngineCacheOptions {
  /** Decoded pixel bytes kept. Default 1 GiB */
  maxImageBytes?: number;
  /** Parsed state dicts kept (ResNet18: ~47 MB each). Default 2 */
  maxStateDicts?: number;
}

export class EngineCache {
  readonly images: DecodedImageCache;
  private readonly maxStateDicts: number;
  private readonly stateDicts = new Map<string, Promise<StateDict>>();

  constructor(options: EngineCacheOptions = {}) {
    this.images = new DecodedImageCache({ maxBytes: options.maxImageBytes ?? 1024 ** 3 });
    this.maxStateDicts = options.maxStateDicts ?? 2;
  }

  /** State dicts currently held. */
  get stateDictCount(): number {
    return this.stateDicts.size;
  }

  loadDataset(root: string): Promise<ImageFolderDataset> {
    return loadImageFolder(root, { cache: this.images });
  }

  async loadStateDict(file: string): Promise<StateDict> {
    const abs = path.resolve(file);
    const st = await stat(abs);
    const key = `${abs}\0${st.size}\0${st.mtimeMs}`;
    let entry = this.stateDicts.get(key);
    if (entry) {
      this.stateDicts.delete(key);
    } else {
      entry = loadStateDict(abs);
      // A failed load must not stay cached.
      entry.catch(() => this.stateDicts.delete(key));
    }
    this.stateDicts.set(key, entry);
    while (this.stateDicts.size > this.maxStateDicts) this.stateDicts.delete(this.stateDicts.keys().next().value!);
    return entry;
  }

  clear(): void {
    this.stateDicts.clear();
    this.images.clear();
  }
}
