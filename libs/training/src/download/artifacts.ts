// The tutorial's downloadable artifacts: the hymenoptera (ants vs bees) data zip and torchvision's
// ResNet18 ImageNet weights in both .pth formats, placed where the rest of the fleet looks for them.
import { access, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DownloadError, DownloadProgress, downloadFile, hashPrefixFromName, sha256File } from './http-download.js';
import { unzipTo } from './unzip.js';

export const DEFAULT_DOWNLOAD_BASE_URL = 'https://download.pytorch.org';
export const HYMENOPTERA_PATH = 'tutorial/hymenoptera_data.zip';
/** torchvision's resnet18 weights: legacy pickle format (2017) and the zip format re-release. */
export const RESNET18_PATHS = Object.freeze({ legacy: 'models/resnet18-5c106cde.pth', zip: 'models/resnet18-f37072fd.pth' } as const);
export type WeightsFileFormat = keyof typeof RESNET18_PATHS;

export interface DownloadArtifactOptions {
  /** Target folder. Defaults come from downloadDefaults(): DATA_ROOT / WEIGHTS_ROOT. */
  to: string;
  /** Server root the artifact paths are appended to. Default https://download.pytorch.org */
  baseUrl?: string;
  /** Download again even when the target is already there. Default false */
  force?: boolean;
  onProgress?: (progress: DownloadProgress) => void;
  /** Resume attempts after a dropped connection. Default 3 */
  retries?: number;
}

export interface ArtifactResult {
  /** The dataset root (containing train/ and val/) or the weights file. */
  path: string;
  /** False when it was already in place and nothing was fetched. */
  downloaded: boolean;
  url: string;
}

export interface DownloadDefaults {
  dataRoot: string;
  weightsRoot: string;
  baseUrl: string;
}

/** DATA_ROOT (default ./data), WEIGHTS_ROOT (default ./weights), FLEET_DOWNLOAD_BASE_URL. */
export function downloadDefaults(env: NodeJS.ProcessEnv = process.env): DownloadDefaults {
  return {
    dataRoot: env.DATA_ROOT || './data',
    weightsRoot: env.WEIGHTS_ROOT || './weights',
    baseUrl: env.FLEET_DOWNLOAD_BASE_URL || DEFAULT_DOWNLOAD_BASE_URL,
  };
}

function urlOf(base: string | undefined, path: string): string {
  return `${(base ?? DEFAULT_DOWNLOAD_BASE_URL).replace(/\/+$/, '')}/${path}`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Downloads and unpacks hymenoptera_data.zip into `to`; the dataset is `<to>/hymenoptera_data`. */
export async function downloadHymenoptera(options: DownloadArtifactOptions): Promise<ArtifactResult> {
  const url = urlOf(options.baseUrl, HYMENOPTERA_PATH);
  const dataset = join(options.to, 'hymenoptera_data');
  if (!options.force && (await exists(join(dataset, 'train'))) && (await exists(join(dataset, 'val')))) {
    return { path: dataset, downloaded: false, url };
  }
  const zip = join(options.to, basename(HYMENOPTERA_PATH));
  // No checksum: PyTorch publishes none for this zip, and we do not invent one.
  await downloadFile(url, zip, { onProgress: options.onProgress, retries: options.retries });
  try {
    await unzipTo(zip, options.to);
  } finally {
    // A hostile or broken zip is not worth keeping; a good one is no longer needed.
    await rm(zip, { force: true });
  }
  if (!(await exists(join(dataset, 'train'))) || !(await exists(join(dataset, 'val')))) {
    throw new DownloadError(`${url} did not contain hymenoptera_data/train and hymenoptera_data/val`);
  }
  return { path: dataset, downloaded: true, url };
}

/** Downloads torchvision's ResNet18 weights into `to`, checking torch hub's sha256 prefix. */
export async function downloadResnet18Weights(format: WeightsFileFormat, options: DownloadArtifactOptions): Promise<ArtifactResult> {
  const path = RESNET18_PATHS[format];
  const url = urlOf(options.baseUrl, path);
  const name = basename(path);
  const dest = join(options.to, name);
  const prefix = hashPrefixFromName(name)!;
  if (!options.force && (await exists(dest)) && (await sha256File(dest)).startsWith(prefix)) {
    return { path: dest, downloaded: false, url };
  }
  await downloadFile(url, dest, { sha256Prefix: prefix, onProgress: options.onProgress, retries: options.retries });
  return { path: dest, downloaded: true, url };
}
