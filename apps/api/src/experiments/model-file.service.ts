// Finds the model files a succeeded run left under ARTIFACTS_DIR/<experiment id>/ (written by the
// engine through libs/training's model-files module, the only code that knows their layout),
// copied there from the artifact store first when ARTIFACTS_URL is set (RunFilesService).
import { ConflictException, GoneException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import path from 'node:path';
import { ExperimentRepository } from '@fleet/persistence';
import type { RunWeights } from '@fleet/queue';
import { findModelFile, MODEL_EPOCHS, modelFileNames, PREDICTIONS_FILE, readPredictions, type ModelEpoch, type StoredModel } from '@fleet/training/model-files/model-files.js';
import type { ValPredictions } from '@fleet/training/model-files/val-predictions.js';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';
import { FieldValidationException } from '../common/field-errors.js';
import { RunFilesService } from '../artifacts/run-files.service.js';

export interface ExperimentModel extends StoredModel {
  epoch: ModelEpoch;
  /** the 1-based epoch whose weights the file holds */
  epochNumber: number;
}

@Injectable()
export class ModelFileService {
  constructor(
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    private readonly experiments: ExperimentRepository,
    private readonly files: RunFilesService,
  ) {}

  /** 400 naming `field` unless `value` is best or final (default best). */
  static parseEpoch(value: unknown, field = 'epoch'): ModelEpoch {
    if (value === undefined || value === '') return 'best';
    if (typeof value === 'string' && (MODEL_EPOCHS as readonly string[]).includes(value)) return value as ModelEpoch;
    throw FieldValidationException.of(field, `${field} must be one of ${MODEL_EPOCHS.join(', ')}`);
  }

  async find(id: string, epoch: ModelEpoch): Promise<ExperimentModel> {
    const experiment = await this.succeeded(id);
    const stored = await findModelFile(await this.files.localDir(id, modelFileNames(epoch)), epoch);
    if (!stored) throw new NotFoundException(`experiment ${id} has no ${epoch} model file under ARTIFACTS_DIR (removed, or trained before runs kept their models)`);
    const epochNumber = epoch === 'best' ? (experiment.bestEpoch ?? experiment.epochsDone) : experiment.epochsDone;
    return { ...stored, epoch, epochNumber };
  }

  /**
   * 400 naming `<field>.experiment` unless `parent` can start a chained run now: the run exists,
   * has succeeded, and its `epoch` model is still stored. There is no owner or tenant in this API
   * (one shared API key), so a run is "foreign" when the fleet no longer holds its model: removed
   * from ARTIFACTS_DIR, or trained before runs kept their models.
   */
  async checkParent(parent: RunWeights, field = 'weights'): Promise<void> {
    const name = `${field}.experiment`;
    const experiment = await this.experiments.findById(parent.experiment);
    if (!experiment) throw FieldValidationException.of(name, `${name}: no experiment ${parent.experiment}`);
    if (experiment.status !== 'succeeded') {
      throw FieldValidationException.of(name, `${name}: experiment ${parent.experiment} is ${experiment.status}; only a succeeded run's model can be started from`);
    }
    if (!(await findModelFile(await this.files.localDir(parent.experiment, modelFileNames(parent.epoch)), parent.epoch))) {
      throw FieldValidationException.of(name, `${name}: experiment ${parent.experiment} has no ${parent.epoch} model under ARTIFACTS_DIR any more (removed, or trained before runs kept their models)`);
    }
  }

  /** The best epoch's val predictions and confusion matrix. */
  async predictions(id: string): Promise<ValPredictions> {
    await this.succeeded(id);
    const stored = await readPredictions(await this.files.localDir(id, [PREDICTIONS_FILE]));
    if (!stored) throw new NotFoundException(`experiment ${id} has no stored predictions under ARTIFACTS_DIR (removed, or trained before runs kept them)`);
    return stored;
  }

  /**
   * A val image of the run's stored predictions (the dashboard's grid). Only files listed there are
   * served: the name is looked up, never joined blindly, so nothing else under DATA_ROOT leaks.
   */
  async valImage(id: string, file: unknown): Promise<{ path: string; type: string }> {
    if (typeof file !== 'string' || file === '') throw FieldValidationException.of('file', 'file must name a val image of the run (as /predictions lists it)');
    const experiment = await this.succeeded(id);
    const stored = await this.predictions(id);
    if (!stored.predictions.some((p) => p.file === file)) throw new NotFoundException(`${file} is not among the stored predictions of experiment ${id}`);
    const ext = path.extname(file).toLowerCase();
    const type = ext === '.png' ? 'image/png' : ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : ext === '.webp' ? 'image/webp' : ext === '.bmp' ? 'image/bmp' : 'application/octet-stream';
    return { path: path.join(this.config.dataRoot, experiment.config.dataset, file), type };
  }

  private async succeeded(id: string) {
    const experiment = await this.experiments.findById(id);
    if (!experiment) throw new NotFoundException(`experiment ${id} not found`);
    if (experiment.status !== 'succeeded') throw new ConflictException(`experiment ${id} is ${experiment.status}: only succeeded runs have models`);
    if (experiment.artifactsPurgedAt) throw new GoneException(`experiment ${id}: its model files and predictions were removed on ${experiment.artifactsPurgedAt.toISOString()} by the retention policy (ARTIFACTS_RETENTION_DAYS); its metrics are kept`);
    return experiment;
  }
}
