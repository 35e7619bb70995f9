// Submitting, reading and cancelling single experiments.
// Enqueue failure policy: the row is stored first (so the job never references a missing row), and
// if the job cannot be added it is marked failed with the reason ("could not enqueue: ...") rather
// than deleted, so the attempt stays visible in the history; the client gets a 503.
import { ConflictException, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { applyExperimentDefaults, pickExperimentConfig, validateExperimentConfig, type ExperimentConfigData } from '@fleet/queue';
import { ExperimentRepository, FINAL_STATUSES, InvalidCursorError, type ExperimentPage, type ExperimentQuery, type ExperimentRecord, type ExperimentWithEpochs } from '@fleet/persistence';
import { RunFilesService } from '../artifacts/run-files.service.js';
import { FieldValidationException } from '../common/field-errors.js';
import { QueueService } from '../queue/queue.service.js';
import type { CreateExperimentDto } from './dto/experiment-input.dto.js';
import { ExperimentEventsService } from './experiment-events.service.js';
import { FileRootsService } from './file-roots.service.js';
import { ModelFileService } from './model-file.service.js';

@Injectable()
export class ExperimentService {
  private readonly logger = new Logger('ExperimentService');

  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly queue: QueueService,
    private readonly files: FileRootsService,
    private readonly events: ExperimentEventsService,
    private readonly models: ModelFileService,
    private readonly runFiles: RunFilesService,
  ) {}

  async create(dto: CreateExperimentDto): Promise<ExperimentRecord> {
    const config = applyExperimentDefaults(pickExperimentConfig(dto)) as ExperimentConfigData;
    // The DTO already passed the same rules with optional hyper-parameters; this checks the whole.
    const errors = validateExperimentConfig(config);
    if (errors.length > 0) throw new FieldValidationException(errors);
    await this.checkFiles(config);
    const record = await this.experiments.create({ id: randomUUID(), name: dto.name ?? null, config, priority: dto.priority ?? 0 });
    try {
      await this.queue.enqueue([{ data: { experimentId: record.id, config }, priority: record.priority }]);
    } catch (err) {
      const reason = `could not enqueue: ${err instanceof Error ? err.message : String(err)}`;
      this.logger.error(`experiment ${record.id}: ${reason}`);
      await this.experiments.markNotEnqueued([record.id], reason);
      throw new ServiceUnavailableException(`${reason} (the experiment was stored as failed; submit it again)`);
    }
    return record;
  }

  /**
   * 400 naming the field unless the dataset folder (and weights file) exist inside their roots, or,
   * for a chained run, the parent run can be started from (see ModelFileService.checkParent).
   */
  async checkFiles(config: Pick<ExperimentConfigData, 'dataset' | 'weights'>, fields = { dataset: 'dataset', weights: 'weights' }): Promise<void> {
    await this.files.checkDataset(config.dataset, fields.dataset);
    if (typeof config.weights === 'string') await this.files.checkWeights(config.weights, fields.weights);
    else if (config.weights !== undefined) await this.models.checkParent(config.weights, fields.weights);
  }

  async get(id: string): Promise<ExperimentWithEpochs> {
    const experiment = await this.experiments.findWithEpochs(id);
    if (!experiment) throw new NotFoundException(`experiment ${id} not found`);
    return experiment;
  }

  async list(query: ExperimentQuery): Promise<ExperimentPage> {
    try {
      return await this.experiments.list(query);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw FieldValidationException.of('cursor', err.message);
      throw err;
    }
  }

  /**
   * Deletes a finished single run: its row, its epochs and its files under ARTIFACTS_DIR. Refused
   * (409, with the reason) while it is queued or running, when it belongs to a sweep, and while
   * chained runs that start from its model are queued or running (or a searched sweep may still
   * create some): those would lose their starting weights. Finished chained runs stay, with
   * parent.experimentId null.
   */
  async delete(id: string): Promise<void> {
    const outcome = await this.experiments.delete(id);
    if (!outcome.deleted) {
      switch (outcome.reason) {
        case 'not-found':
          throw new NotFoundException(`experiment ${id} not found`);
        case 'active':
          throw new ConflictException(`experiment ${id} is ${outcome.status}: cancel it first, only finished runs can be deleted`);
        case 'sweep':
          throw new ConflictException(`experiment ${id} is a run of sweep ${outcome.sweepId}: runs of a sweep are kept with their sweep`);
        case 'children':
          throw new ConflictException(`experiment ${id} is the parent of queued or running chained runs (${outcome.children.join(', ')}): they start from its model; cancel them or wait until they finish`);
        case 'searches':
          throw new ConflictException(`experiment ${id} is the parent (base.weights) of searched sweeps still scheduling runs (${outcome.sweeps.join(', ')}): cancel them or wait until they finish`);
      }
    }
    // After the row: a failure here leaves files nobody lists (logged), never a row without its files.
    await this.forgetJobs([id]);
    await this.runFiles.remove([id]);
  }

  /**
   * queued/running -> cancelled. The database decides (conditional update), then Redis makes it
   * stick: the waiting job is removed, the cancel flag stops a worker that already took it, and
   * the running worker hears it on the cancel channel and stops within one batch.
   */
  async cancel(id: string): Promise<ExperimentRecord> {
    const current = await this.experiments.findById(id);
    if (!current) throw new NotFoundException(`experiment ${id} not found`);
    if (FINAL_STATUSES.includes(current.status)) throw new ConflictException(`experiment ${id} is already ${current.status}: only queued or running experiments can be cancelled`);
    const cancelled = await this.experiments.cancel(id);
    if (!cancelled) {
      const now = await this.experiments.findById(id);
      throw new ConflictException(`experiment ${id} is already ${now?.status ?? 'gone'}: only queued or running experiments can be cancelled`);
    }
    try {
      await this.queue.cancel(id);
      await this.events.publishStatus(id, 'cancelled');
    } catch (err) {
      // The row is cancelled, so no worker will start it (workers check the status first); only a
      // running one may go on until its next status write. Worth a log line, not a failed request.
      this.logger.warn(`experiment ${id} cancelled in the database but Redis was not told: ${err instanceof Error ? err.message : String(err)}`);
    }
    return cancelled;
  }

  /** Drops finished jobs and cancel flags of deleted runs; the rows are gone, so a failure here only leaves clutter. */
  async forgetJobs(ids: string[]): Promise<void> {
    try {
      await this.queue.removeJobs(ids);
      await this.queue.clearCancelled(ids);
    } catch (err) {
      this.logger.warn(`deleted ${ids.length} runs but could not remove their BullMQ jobs: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
