// Experiment rows <-> domain records. The configuration columns are gathered into one
// ExperimentConfigData so callers never pick hyper-parameters out of a row by hand.
import type { ExperimentConfigData } from '@fleet/queue';
import type { ModelEpoch, Strategy } from '@fleet/training/contracts.js';
import type { ExperimentStatus } from './generated/prisma/enums.js';
import type { ExperimentRow } from './prisma.service.js';

export interface ExperimentRecord {
  id: string;
  name: string | null;
  sweepId: string | null;
  gridValues: Record<string, unknown> | null;
  config: ExperimentConfigData;
  /**
   * Set for a chained run: the run whose model it started from (null once that run was deleted)
   * and which of its models. config.weights names the same parent while it exists.
   */
  parent: { experimentId: string | null; epoch: ModelEpoch } | null;
  priority: number;
  status: ExperimentStatus;
  attempts: number;
  workerId: string | null;
  backend: string | null;
  backendInfo: string | null;
  error: string | null;
  epochsDone: number;
  bestValAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** When the retention policy removed the run's files (model, predictions, checkpoint); null while kept. */
  artifactsPurgedAt: Date | null;
}

/** What the API stores for a new experiment (always status queued). */
export interface NewExperiment {
  id: string;
  name?: string | null | undefined;
  sweepId?: string | null | undefined;
  gridValues?: Record<string, unknown> | null | undefined;
  config: ExperimentConfigData;
  priority: number;
}

export const FINAL_STATUSES: readonly ExperimentStatus[] = ['succeeded', 'failed', 'cancelled', 'stopped'];

export function toExperimentRecord(row: ExperimentRow): ExperimentRecord {
  const config: ExperimentConfigData = {
    dataset: row.dataset,
    strategy: row.strategy as Strategy,
    epochs: row.epochs,
    batchSize: row.batchSize,
    lr: row.lr,
    lrFactor: row.lrFactor,
    momentum: row.momentum,
    weightDecay: row.weightDecay,
    stepSize: row.stepSize,
    gamma: row.gamma,
    imageSize: row.imageSize,
    seed: row.seed,
  };
  const parentEpoch = row.parentEpoch === 'final' ? 'final' : 'best';
  if (row.parentExperimentId !== null) config.weights = { experiment: row.parentExperimentId, epoch: parentEpoch };
  else if (row.weights !== null) config.weights = row.weights;
  return {
    id: row.id,
    name: row.name,
    sweepId: row.sweepId,
    gridValues: toGridValues(row.gridValues),
    config,
    parent: row.parentEpoch === null ? null : { experimentId: row.parentExperimentId, epoch: parentEpoch },
    priority: row.priority,
    status: row.status,
    attempts: row.attempts,
    workerId: row.workerId,
    backend: row.backend,
    backendInfo: row.backendInfo,
    error: row.error,
    epochsDone: row.epochsDone,
    bestValAcc: row.bestValAcc,
    bestEpoch: row.bestEpoch,
    finalValAcc: row.finalValAcc,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    artifactsPurgedAt: row.artifactsPurgedAt,
  };
}

/** Columns of a new row (createdAt is set by the caller so a sweep's rows keep their grid order). */
export function toExperimentColumns(e: NewExperiment, createdAt: Date) {
  const c = e.config;
  return {
    id: e.id,
    name: e.name ?? null,
    sweepId: e.sweepId ?? null,
    gridValues: (e.gridValues ?? undefined) as Record<string, string | number | null> | undefined,
    dataset: c.dataset,
    weights: typeof c.weights === 'string' ? c.weights : null,
    parentExperimentId: typeof c.weights === 'object' ? c.weights.experiment : null,
    parentEpoch: typeof c.weights === 'object' ? c.weights.epoch : null,
    strategy: c.strategy,
    lr: c.lr,
    lrFactor: c.lrFactor,
    momentum: c.momentum,
    weightDecay: c.weightDecay,
    epochs: c.epochs,
    batchSize: c.batchSize,
    imageSize: c.imageSize,
    seed: c.seed,
    stepSize: c.stepSize,
    gamma: c.gamma,
    priority: e.priority,
    status: 'queued' as const,
    createdAt,
  };
}

/** A row's gridValues JSON as a field -> value map; null for single experiments (and anything not an object). */
export function toGridValues(v: unknown): Record<string, unknown> | null {
  return isObject(v) ? v : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
