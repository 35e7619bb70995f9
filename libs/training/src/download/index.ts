// Fetching the tutorial's data and torchvision's weights: resumable HTTP downloads with torch hub's
// checksum rule, zip-slip-safe unpacking. The only module of libs/training that touches the network.
export { DEFAULT_DOWNLOAD_BASE_URL, downloadDefaults, downloadHymenoptera, downloadResnet18Weights, HYMENOPTERA_PATH, RESNET18_PATHS } from './artifacts.js';
export type { ArtifactResult, DownloadArtifactOptions, DownloadDefaults, WeightsFileFormat } from './artifacts.js';
export { DownloadError, downloadFile, hashPrefixFromName, sha256File } from './http-download.js';
export type { DownloadFileOptions, DownloadProgress, DownloadResult } from './http-download.js';
export { createProgressBar } from './progress-bar.js';
export { safeEntryPath, UnsafeZipError, unzipTo } from './unzip.js';
export type { UnzipResult } from './unzip.js';
