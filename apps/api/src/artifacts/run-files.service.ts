// Removes what runs left under ARTIFACTS_DIR/<experiment id>/ (model files, predictions, checkpoint)
// when a run or sweep is deleted or the retention period is over. The one place the API deletes run
// files, so another artifact store only has to change this class.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { removeRunArtifacts } from '@fleet/training/model-files/model-files.js';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';

/** Experiment ids are UUIDs; anything else must never be joined onto ARTIFACTS_DIR. */
const EXPERIMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class RunFilesService {
  private readonly logger = new Logger('RunFilesService');

  constructor(@Inject(FLEET_CONFIG) private readonly config: FleetConfig) {}

  /** Removes each run's folder; a missing folder is fine. Returns how many it could not remove. */
  async remove(experimentIds: readonly string[]): Promise<number> {
    let failures = 0;
    for (const id of experimentIds) {
      if (!EXPERIMENT_ID.test(id)) throw new Error(`not an experiment id: ${JSON.stringify(id)}`);
      try {
        await removeRunArtifacts(this.config.artifactsDir, id);
      } catch (err) {
        failures += 1;
        this.logger.error(`could not remove the files of experiment ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return failures;
  }
}
