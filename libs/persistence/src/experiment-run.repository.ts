// The worker's view of an experiment: the status transitions of one run and the per-epoch summary
// columns. Transitions are conditional updates so that a late worker never overwrites a terminal
// state (a cancelled experiment stays cancelled even if a stale job copy is picked up).
import type { StopReason } from '@fleet/contracts';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import type { ExperimentStatus } from './generated/prisma/enums.js';
import { toColumns } from './epoch-metric.repository.js';
import type { PrismaService } from './prisma.service.js';

export interface RunStart {
  workerId: string;
  backend: string;
  backendInfo?: string | undefined;
}

export interface RunSummary {
  epochsDone: number;
  bestValAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
}

const ACTIVE: ExperimentStatus[] = ['queued', 'running'];

export class ExperimentRunRepository {
  constructor(private readonly prisma: PrismaService) {}

  async getStatus(experimentId: string): Promise<ExperimentStatus | undefined> {
    const row = await this.prisma.experiment.findUnique({ where: { id: experimentId }, select: { status: true } });
    return row?.status;
  }

  /**
   * queued/running -> running, attempts + 1. Returns false (and changes nothing) when the
   * experiment is missing or already finished, e.g. cancelled while it waited in the queue.
   */
  async markRunning(experimentId: string, run: RunStart): Promise<boolean> {
    const { count } = await this.prisma.experiment.updateMany({
      where: { id: experimentId, status: { in: ACTIVE } },
      data: {
        status: 'running',
        workerId: run.workerId,
        backend: run.backend,
        backendInfo: run.backendInfo ?? null,
        startedAt: new Date(),
        finishedAt: null,
        error: null,
        attempts: { increment: 1 },
      },
    });
    return count === 1;
  }

  /**
   * Stores one epoch (upsert on (experimentId, epoch)) and refreshes the summary columns from all
   * stored epochs, in one transaction: the summary is recomputed rather than accumulated so a
   * re-run epoch cannot skew it. Best epoch = first epoch reaching the highest val accuracy (the
   * tutorial keeps the first best: `if epoch_acc > best_acc`).
   */
  async recordEpoch(experimentId: string, metrics: EpochMetrics): Promise<RunSummary> {
    const values = toColumns(metrics);
    return this.prisma.$transaction(async (tx) => {
      await tx.epochMetric.upsert({
        where: { experimentId_epoch: { experimentId, epoch: metrics.epoch } },
        create: { experimentId, ...values },
        update: values,
      });
      const rows = await tx.epochMetric.findMany({ where: { experimentId }, select: { epoch: true, valAcc: true }, orderBy: { epoch: 'asc' } });
      const summary = summarize(rows);
      await tx.experiment.update({ where: { id: experimentId }, data: summary });
      return summary;
    });
  }

  /** running -> succeeded. */
  async markSucceeded(experimentId: string): Promise<boolean> {
    return this.transition(experimentId, ['running'], { status: 'succeeded', finishedAt: new Date(), error: null });
  }

  /** queued/running -> failed, with the reason. */
  async markFailed(experimentId: string, error: string): Promise<boolean> {
    return this.transition(experimentId, ACTIVE, { status: 'failed', finishedAt: new Date(), error });
  }

  /** queued/running -> cancelled (epochs stored so far are kept). */
  async markCancelled(experimentId: string): Promise<boolean> {
    return this.transition(experimentId, ACTIVE, { status: 'cancelled', finishedAt: new Date() });
  }

  /**
   * queued/running -> stopped by the sweep's early stopping, with the rung that stopped it. Its
   * epochs and checkpoint stay; retry never picks it up again (only failed/cancelled rerun).
   */
  async markStopped(experimentId: string, reason: StopReason): Promise<boolean> {
    const { count } = await this.prisma.experiment.updateMany({
      where: { id: experimentId, status: { in: ACTIVE } },
      data: { status: 'stopped', finishedAt: new Date(), stopReason: { ...reason } },
    });
    return count === 1;
  }

  /**
   * running -> queued: the job went back to the queue (worker shutdown, or a failed attempt that
   * will be retried); `note` says why, e.g. the error of the failed attempt.
   */
  async markRequeued(experimentId: string, note?: string): Promise<boolean> {
    return this.transition(experimentId, ['running'], { status: 'queued', workerId: null, error: note ?? null });
  }

  private async transition(
    experimentId: string,
    from: ExperimentStatus[],
    data: { status: ExperimentStatus; finishedAt?: Date; error?: string | null; workerId?: null },
  ): Promise<boolean> {
    const { count } = await this.prisma.experiment.updateMany({ where: { id: experimentId, status: { in: from } }, data });
    return count === 1;
  }
}

export function summarize(rows: readonly { epoch: number; valAcc: number }[]): RunSummary {
  let best: { epoch: number; valAcc: number } | undefined;
  let last: { epoch: number; valAcc: number } | undefined;
  for (const row of rows) {
    if (!best || row.valAcc > best.valAcc) best = row;
    if (!last || row.epoch > last.epoch) last = row;
  }
  return {
    epochsDone: last?.epoch ?? 0,
    bestValAcc: best?.valAcc ?? null,
    bestEpoch: best?.epoch ?? null,
    finalValAcc: last?.valAcc ?? null,
  };
}
