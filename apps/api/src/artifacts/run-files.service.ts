// The API's access to what runs left under ARTIFACTS_DIR/<experiment id>/ (model files,
// predictions, checkpoint). Without ARTIFACTS_URL the folder is shared with the workers. With it,
// the folder is this machine's cache, filled from the store's published state of the run (checked
// against the manifest on every request: one small GET) before the model-files module reads it;
// a run that published nothing is served from whatever the folder holds (runs trained before the
// store was configured). The one place the API deletes run files, in the folder and in the store.
import { Inject, Injectable, Logger, ServiceUnavailableException, type OnModuleInit } from '@nestjs/common';
import path from 'node:path';
import { createArtifactStore, deleteRunArtifacts, fetchRunFiles, type ArtifactStore } from '@fleet/artifacts';
import { StartupError } from '@fleet/config';
import { removeRunArtifacts } from '@fleet/training/model-files/model-files.js';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';

/** Experiment ids are UUIDs; anything else must never be joined onto ARTIFACTS_DIR. */
const EXPERIMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class RunFilesService implements OnModuleInit {
  private readonly logger = new Logger('RunFilesService');
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
    if (!EXPERIMENT_ID.test(id)) throw new Error(`not an experiment id: ${JSON.stringify(id)}`);
    const dir = path.join(this.config.artifactsDir, id);
    if (!this.store) return dir;
    try {
      await fetchRunFiles(this.store, id, dir, names);
    } catch (err) {
      throw new ServiceUnavailableException(`could not read experiment ${id}'s files from ${this.store.url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return dir;
  }

  /** Removes each run's folder and its objects in the store; a missing one is fine. Returns how many it could not remove. */
  async remove(experimentIds: readonly string[]): Promise<number> {
    let failures = 0;
    for (const id of experimentIds) {
      if (!EXPERIMENT_ID.test(id)) throw new Error(`not an experiment id: ${JSON.stringify(id)}`);
      try {
        if (this.store) await deleteRunArtifacts(this.store, id);
        await removeRunArtifacts(this.config.artifactsDir, id);
      } catch (err) {
        failures += 1;
        this.logger.error(`could not remove the files of experiment ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return failures;
  }
}
