// Sweeps: expand a grid over a base configuration, validate every cell before anything is stored,
// store sweep + experiments in one transaction, enqueue them (QueueService: addBulk in chunks).
// Enqueue failure policy: the sweep and its experiments are deleted again, so a failed submit
// leaves nothing behind; the client gets a 503. The queue removes the chunks it had added; a job
// that still lands (Redis answered after our timeout, or its removal failed) finds no row and the
// workers drop it.
import { ConflictException, Inject, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { isCategorical, parseSweepSearch, type SweepSearchView } from '@fleet/contracts';
import { EXPERIMENT_CONFIG_FIELDS, applyExperimentDefaults, isWeightsObject, validateExperimentConfig, type ExperimentConfigData, type FieldError } from '@fleet/queue';
import { ExperimentRepository, ParentRunGoneError, SweepRepository, SweepSearchRepository, type NewExperiment, type SweepSummary, type SweepWithRuns } from '@fleet/persistence';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';
import { RunFilesService } from '../artifacts/run-files.service.js';
import { FieldValidationException } from '../common/field-errors.js';
import { ExperimentService } from '../experiments/experiment.service.js';
import { QueueService } from '../queue/queue.service.js';
import type { CreateSweepDto } from './dto/sweep-input.dto.js';
import { cellLabel, expandGrid, gridSize, type Grid, type GridValue } from './grid.js';
import { checkSearchCells } from './search-plan.js';
import { SweepSchedulerService } from './sweep-scheduler.service.js';
import { toSweepSearchView } from './sweep-search.presenter.js';

export interface SweepCreated {
  id: string;
  count: number;
  experimentIds: string[];
}

export interface SweepDetail extends SweepWithRuns {
  search: SweepSearchView | null;
}

export interface RetryResult {
  experimentIds: string[];
  skipped: { id: string; reason: string }[];
}

const CONFIG_FIELDS = new Set<string>(EXPERIMENT_CONFIG_FIELDS);

/** Checks grid keys and value lists; returns the grid typed. */
function checkGrid(raw: Record<string, unknown>): Grid {
  const grid: Record<string, GridValue[]> = {};
  for (const [key, values] of Object.entries(raw)) {
    const field = `grid.${key}`;
    if (!CONFIG_FIELDS.has(key)) throw FieldValidationException.of(field, `${field} is not an experiment field (one of: ${EXPERIMENT_CONFIG_FIELDS.join(', ')})`);
    if (!Array.isArray(values)) throw FieldValidationException.of(field, `${field} must be an array of values`);
    if (values.length === 0) throw FieldValidationException.of(field, `${field} must not be empty`);
    values.forEach((v: unknown, i) => {
      // weights may also name a parent run's model, {experiment, epoch} (a chained run).
      if (key === 'weights' && isWeightsObject(v)) return;
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw FieldValidationException.of(field, `${field}[${i}] must be a string or a number`);
    });
    grid[key] = values as GridValue[];
  }
  return grid;
}

@Injectable()
export class SweepService {
  private readonly logger = new Logger('SweepService');

  constructor(
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    private readonly sweeps: SweepRepository,
    private readonly experimentRepo: ExperimentRepository,
    private readonly experiments: ExperimentService,
    private readonly queue: QueueService,
    private readonly searches: SweepSearchRepository,
    private readonly scheduler: SweepSchedulerService,
    private readonly runFiles: RunFilesService,
  ) {}

  async create(dto: CreateSweepDto): Promise<SweepCreated> {
    if (dto.method !== undefined || dto.parameters !== undefined) return this.createSearched(dto);
    if (dto.grid === undefined) throw FieldValidationException.of('grid', 'grid (the cartesian form) or method + parameters (the searched form) is required');
    const grid = checkGrid(dto.grid);
    const size = gridSize(grid);
    if (size > this.config.maxSweepRuns) throw FieldValidationException.of('grid', `grid expands to ${size} runs, more than MAX_SWEEP_RUNS (${this.config.maxSweepRuns})`);

    const sweepId = randomUUID();
    const planned: NewExperiment[] = [];
    const files = new Map<string, Pick<ExperimentConfigData, 'dataset' | 'weights'>>();
    let index = 0;
    for (const cell of expandGrid(grid)) {
      const merged: Record<string, unknown> = applyExperimentDefaults({ ...dto.base, ...cell });
      const errors = validateExperimentConfig(merged);
      if (errors.length > 0) throw new FieldValidationException(errors.map((e) => this.cellError(e, grid, cell, index)));
      const config = merged as unknown as ExperimentConfigData;
      const fileKey = `${config.dataset}\0${JSON.stringify(config.weights ?? '')}`;
      if (!files.has(fileKey)) files.set(fileKey, { dataset: config.dataset, weights: config.weights });
      planned.push({ id: randomUUID(), name: cellLabel(cell) || (dto.name ?? null), sweepId, gridValues: cell, config, priority: dto.priority ?? 0 });
      index += 1;
    }
    const fields = { dataset: 'dataset' in grid ? 'grid.dataset' : 'base.dataset', weights: 'weights' in grid ? 'grid.weights' : 'base.weights' };
    for (const f of files.values()) await this.experiments.checkFiles(f, fields);

    await this.sweeps.createWithExperiments({ id: sweepId, name: dto.name ?? null, base: dto.base, grid: grid as Record<string, unknown[]> }, planned).catch((err: unknown) => {
      if (err instanceof ParentRunGoneError) throw FieldValidationException.of(`${fields.weights}.experiment`, `${fields.weights}.experiment: ${err.message}`);
      throw err;
    });
    try {
      await this.queue.enqueue(planned.map((e) => ({ data: { experimentId: e.id, config: e.config }, priority: e.priority })));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.error(`sweep ${sweepId}: could not enqueue ${planned.length} runs: ${reason}; deleting it`);
      await this.sweeps.delete(sweepId);
      throw new ServiceUnavailableException(`could not enqueue the sweep (nothing was stored): ${reason}`);
    }
    return { id: sweepId, count: planned.length, experimentIds: planned.map((e) => e.id) };
  }

  /**
   * The searched form: checks it whole (every field, and base with each parameter's extreme values
   * against the experiment rules) before anything is stored, stores the sweep, then hands out the
   * first maxConcurrent cells. Should that fail, the sweep is deleted again and the client gets 503.
   */
  private async createSearched(dto: CreateSweepDto): Promise<SweepCreated> {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(dto)) if (value !== undefined && key !== 'name' && key !== 'priority') raw[key] = value;
    const { spec, errors } = parseSweepSearch(raw, EXPERIMENT_CONFIG_FIELDS);
    if (!spec) throw new FieldValidationException(errors);
    const cellErrors = checkSearchCells(dto.base, spec);
    if (cellErrors.length > 0) throw new FieldValidationException(cellErrors);
    const base = applyExperimentDefaults(dto.base) as Record<string, unknown>;
    const datasets = spec.parameters['dataset'];
    const weights = spec.parameters['weights'];
    for (const dataset of datasets && isCategorical(datasets) ? datasets.values.map(String) : [String(base['dataset'])]) {
      await this.experiments.checkFiles({ dataset }, { dataset: datasets ? 'parameters.dataset' : 'base.dataset', weights: 'base.weights' });
    }
    // base.weights may be a parent run's model ({experiment, epoch}); searched values are file names.
    const baseWeights = base['weights'] as ExperimentConfigData['weights'];
    const weightSources = weights && isCategorical(weights) ? weights.values.map(String) : baseWeights === undefined ? [] : [baseWeights];
    for (const w of weightSources) await this.experiments.checkFiles({ dataset: String(base['dataset'] ?? ''), weights: w }, { dataset: 'base.dataset', weights: weights ? 'parameters.weights' : 'base.weights' });

    const sweepId = randomUUID();
    await this.searches.create({ id: sweepId, name: dto.name ?? null, base: dto.base, search: spec, priority: dto.priority ?? 0, queuePrefix: this.config.queuePrefix });
    try {
      const filled = await this.scheduler.fill(sweepId);
      const ids = filled?.created.map((e) => e.id) ?? [];
      return { id: sweepId, count: ids.length, experimentIds: ids };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.error(`sweep ${sweepId}: could not schedule its first trials: ${reason}; deleting it`);
      await this.sweeps.delete(sweepId);
      throw new ServiceUnavailableException(`could not enqueue the sweep (nothing was stored): ${reason}`);
    }
  }

  /**
   * Stops the sweep: no further trial or cell is scheduled, and its queued and running cells are
   * cancelled (a running one stops within one batch). Returns the cells cancelled.
   */
  async cancel(id: string): Promise<{ experimentIds: string[] }> {
    const open = await this.searches.cancel(id);
    if (open === null) throw new NotFoundException(`sweep ${id} not found`);
    const cancelled: string[] = [];
    for (const experimentId of open) {
      try {
        await this.experiments.cancel(experimentId);
        cancelled.push(experimentId);
      } catch (err) {
        // Finished between the listing and the cancel: nothing left to stop.
        if (!(err instanceof ConflictException)) throw err;
      }
    }
    return { experimentIds: cancelled };
  }

  private cellError(e: FieldError, grid: Grid, cell: Record<string, GridValue>, index: number): FieldError {
    const top = e.field.split('.')[0] ?? e.field;
    const field = top in grid ? `grid.${e.field}` : `base.${e.field}`;
    const where = Object.keys(cell).length > 0 ? ` (run #${index + 1}: ${cellLabel(cell)})` : '';
    return { field, reason: `${e.reason}${where}` };
  }

  async list(): Promise<SweepSummary[]> {
    return this.sweeps.list();
  }

  async get(id: string): Promise<SweepDetail> {
    const [sweep, search] = await Promise.all([this.sweeps.findWithRuns(id), this.searches.detail(id)]);
    if (!sweep) throw new NotFoundException(`sweep ${id} not found`);
    return { ...sweep, search: search ? toSweepSearchView(search) : null };
  }

  /**
   * Re-enqueues the failed/cancelled runs under their own ids: the old job is removed first so the
   * id is free (BullMQ ignores an add whose id exists), and a job a worker still holds (a cancelled
   * run that has not stopped yet) is skipped rather than lost. Finished runs never rerun.
   */
  async retry(id: string): Promise<RetryResult> {
    if (!(await this.sweeps.exists(id))) throw new NotFoundException(`sweep ${id} not found`);
    let candidates = await this.experimentRepo.listRetryable(id);
    // A chained run whose parent was deleted has no starting weights any more.
    const orphans = new Set(await this.experimentRepo.listParentGone(candidates));
    const over: { id: string; reason: string }[] = [...orphans].map((o) => ({ id: o, reason: 'it started from a run that was deleted since; submit it again from another parent' }));
    candidates = candidates.filter((c) => !orphans.has(c));
    const search = await this.searches.getSearch(id);
    if (search) {
      // A searched sweep keeps its budget: only as many runs as it has free slots go back now.
      const { counts } = await this.get(id);
      const free = Math.max(0, search.budget.maxConcurrent - counts.queued - counts.running);
      over.push(...candidates.slice(free).map((c) => ({ id: c, reason: `the sweep already has maxConcurrent (${search.budget.maxConcurrent}) runs queued or running; retry again when some end` })));
      candidates = candidates.slice(0, free);
    }
    const busy = new Set(await this.queue.removeJobs(candidates));
    const records = await this.experimentRepo.requeue(candidates.filter((c) => !busy.has(c)));
    const ids = records.map((r) => r.id);
    await this.queue.clearCancelled(ids);
    try {
      await this.queue.enqueue(records.map((r) => ({ data: { experimentId: r.id, config: r.config }, priority: r.priority })));
    } catch (err) {
      const reason = `could not enqueue: ${err instanceof Error ? err.message : String(err)}`;
      await this.experimentRepo.markNotEnqueued(ids, reason);
      throw new ServiceUnavailableException(`${reason} (the runs stay failed; retry again)`);
    }
    const reset = new Set(ids);
    const purged = candidates.filter((c) => !busy.has(c) && !reset.has(c)).map((c) => ({ id: c, reason: 'its files (checkpoint) were removed by the retention policy (ARTIFACTS_RETENTION_DAYS); submit it again as a new run' }));
    return { experimentIds: ids, skipped: [...[...busy].map((b) => ({ id: b, reason: 'its job is still held by a worker (cancel in progress); retry again shortly' })), ...over, ...purged] };
  }

  /**
   * Deletes a sweep whose runs have all ended: the sweep, its runs, trials and epochs, their jobs and
   * their files under ARTIFACTS_DIR. 409 while a run is queued or running (cancel the sweep first).
   */
  async delete(id: string): Promise<{ experimentIds: string[] }> {
    const outcome = await this.sweeps.deleteFinished(id);
    if (outcome === null) throw new NotFoundException(`sweep ${id} not found`);
    if (outcome.active > 0) throw new ConflictException(`sweep ${id} has ${outcome.active} runs queued or running: cancel the sweep first, then delete it`);
    if (outcome.children.length > 0) throw new ConflictException(`runs of sweep ${id} are the parents of queued or running chained runs (${outcome.children.join(', ')}): they start from their models; cancel them or wait until they finish`);
    if (outcome.searches?.length) throw new ConflictException(`runs of sweep ${id} are the parents (base.weights) of searched sweeps still scheduling runs (${outcome.searches.join(', ')}): cancel them or wait until they finish`);
    await this.experiments.forgetJobs(outcome.experimentIds);
    await this.runFiles.remove(outcome.experimentIds);
    return { experimentIds: outcome.experimentIds };
  }
}
