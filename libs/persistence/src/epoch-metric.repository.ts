// Per-epoch metrics of experiments. Every write is an upsert on (experimentId, epoch): an epoch
// re-run after a crash (resumed from the previous checkpoint) replaces its row instead of adding a
// second one, so each epoch lands exactly once whatever happened to the worker.
import type { EpochMetrics } from '@fleet/training/contracts.js';
import type { PrismaService } from './prisma.service.js';

export interface StoredEpochMetric extends EpochMetrics {
  experimentId: string;
  createdAt: Date;
}

export class EpochMetricRepository {
  constructor(private readonly prisma: PrismaService) {}

  async upsert(experimentId: string, metrics: EpochMetrics): Promise<void> {
    const values = toColumns(metrics);
    await this.prisma.epochMetric.upsert({
      where: { experimentId_epoch: { experimentId, epoch: metrics.epoch } },
      create: { experimentId, ...values },
      update: values,
    });
  }

  /** All epochs of one experiment, epoch ascending. */
  async listByExperiment(experimentId: string): Promise<StoredEpochMetric[]> {
    const rows = await this.prisma.epochMetric.findMany({ where: { experimentId }, orderBy: { epoch: 'asc' } });
    return rows.map((r) => ({
      experimentId: r.experimentId,
      epoch: r.epoch,
      trainLoss: r.trainLoss,
      trainAcc: r.trainAcc,
      valLoss: r.valLoss,
      valAcc: r.valAcc,
      lrs: r.lrs,
      seconds: r.seconds,
      imagesPerSec: r.imagesPerSec,
      trainableParams: r.trainableParams,
      backboneDrift: r.backboneDrift,
      bnStatsDrift: r.bnStatsDrift,
      createdAt: r.createdAt,
    }));
  }
}

/** Only the columns of EpochMetric: the engine may report more fields than the table has. */
export function toColumns(m: EpochMetrics): EpochMetrics {
  return {
    epoch: m.epoch,
    trainLoss: m.trainLoss,
    trainAcc: m.trainAcc,
    valLoss: m.valLoss,
    valAcc: m.valAcc,
    lrs: [...m.lrs],
    seconds: m.seconds,
    imagesPerSec: m.imagesPerSec,
    trainableParams: m.trainableParams,
    backboneDrift: m.backboneDrift,
    bnStatsDrift: m.bnStatsDrift,
  };
}
