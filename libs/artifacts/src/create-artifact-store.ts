// The store ARTIFACTS_URL names, built from the parsed location (libs/config parses and validates).
import type { ArtifactsLocation } from '@fleet/config';
import type { ArtifactStore } from './artifact-store.js';
import { DirArtifactStore } from './dir-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

export function createArtifactStore(location: ArtifactsLocation, env: Record<string, string | undefined> = process.env): ArtifactStore {
  switch (location.kind) {
    case 's3':
      return new S3ArtifactStore({ bucket: location.bucket, prefix: location.prefix, forcePathStyle: location.forcePathStyle, env });
    case 'dir':
      return new DirArtifactStore(location.dir);
  }
}
