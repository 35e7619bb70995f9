// Where the API finds a run's files. Without ARTIFACTS_URL: ARTIFACTS_DIR/<id>/, shared with the
// workers. With it: the same folder as this machine's cache, filled from the store's published
// state of the run (checked against the manifest on every request: one small GET) before the
// model-files module reads it as usual. A run published nothing: whatever the folder holds is used
// (runs trained before the store was configured).
import { Inject, Injectable, ServiceUnavailableException, type OnModuleInit } from '@nestjs/common';
import path from 'node:path';
import { createArtifactStore, fetchRunFiles, type ArtifactStore } from '@fleet/artifacts';
import { StartupError } from '@fleet/config';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';

@Injectable()
export class RunFilesService implements OnModuleInit {
  private readonly store: ArtifactStore | undefined;

  constructor(@Inject(FLEET_CONFIG) private readonly config: FleetConfig) {
    this.store = config.artifactStore ? createArtifactStore(config.artifactStore) : undefined;
  }

  /** Fail fast at boot: a store the API cannot read is a configuration error, not a 503 later. */
  async onModuleInit(): Promise<void> {
    await this.store?.check({ write: false }).catch((err: unknown) => {
      throw new StartupError(`${err instanceof Error ? err.message : String(err)} (ARTIFACTS_URL)`);
    });
  }

  /** The run's local folder, holding `names` as the store last published them. 503 when the store fails. */
  async localDir(id: string, names: readonly string[]): Promise<string> {
    const dir = path.join(this.config.artifactsDir, id);
    if (!this.store) return dir;
    try {
      await fetchRunFiles(this.store, id, dir, names);
    } catch (err) {
      throw new ServiceUnavailableException(`could not read experiment ${id}'s files from ${this.store.url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return dir;
  }
}
