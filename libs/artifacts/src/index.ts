// Artifacts shared across machines: the ArtifactStore interface with its S3 and shared-folder
// implementations, and the publish/restore protocol of a run's folder (run-artifacts.ts). Node
// and the AWS SDK only; nothing here knows what a checkpoint or a model file contains, and the
// training engine (libs/training, no network I/O) never imports it: the worker and the API do.
export * from './artifact-store.js';
export * from './create-artifact-store.js';
export * from './dir-artifact-store.js';
export * from './run-artifacts.js';
export * from './s3-artifact-store.js';
