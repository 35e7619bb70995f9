// Domain records -> response DTOs (dates as ISO strings, run duration computed).
import type { EpochMetrics } from '@fleet/training/contracts.js';
import type { ExperimentRecord } from '@fleet/persistence';
import type { EpochMetricDto, ExperimentDetailDto, ExperimentDto } from './dto/experiment.response.js';
import type { ExperimentConfig } from '@fleet/queue';

/** Wall time of a run: finished - started, or so far while it runs. */
export function runSeconds(e: Pick<ExperimentRecord, 'startedAt' | 'finishedAt'>, now = Date.now()): number | null {
  if (!e.startedAt) return null;
  return ((e.finishedAt?.getTime() ?? now) - e.startedAt.getTime()) / 1000;
}

export function toExperimentDto(e: ExperimentRecord): ExperimentDto {
  return {
    id: e.id,
    name: e.name,
    sweepId: e.sweepId,
    gridValues: e.gridValues,
    config: e.config as ExperimentConfig,
    parent: e.parent,
    strategy: e.config.strategy,
    dataset: e.config.dataset,
    priority: e.priority,
    status: e.status,
    attempts: e.attempts,
    workerId: e.workerId,
    backend: e.backend,
    backendInfo: e.backendInfo,
    error: e.error,
    epochsDone: e.epochsDone,
    bestValAcc: e.bestValAcc,
    bestEpoch: e.bestEpoch,
    finalValAcc: e.finalValAcc,
    createdAt: e.createdAt.toISOString(),
    startedAt: e.startedAt?.toISOString() ?? null,
    finishedAt: e.finishedAt?.toISOString() ?? null,
    artifactsPurgedAt: e.artifactsPurgedAt?.toISOString() ?? null,
    seconds: runSeconds(e),
  };
}

export function toEpochDto(m: EpochMetrics): EpochMetricDto {
  return { ...m };
}

export function toExperimentDetailDto(e: ExperimentRecord & { epochs: EpochMetrics[] }): ExperimentDetailDto {
  return { ...toExperimentDto(e), epochs: e.epochs.map(toEpochDto) };
}
