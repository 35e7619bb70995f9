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

/** What storing an epoch returns: the run's refreshed summary, and whether early stopping judges it. */
export interface StoredEpoch extends RunSummary {
  /** A cell of a searched sweep (the only runs with rungs to judge). */
  searched: boolean;
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
   * Raw SQL: every pickup runs it, and Prisma's query compiler costs each worker's client ~20 ms of
   * CPU the first time it sees a query shape, which 200 workers taking a sweep's first runs at once
   * paid together (bench:fleet).
   */
  async markRunning(experimentId: string, run: RunStart): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE "Experiment" SET
        "status" = 'running', "workerId" = ${run.workerId}, "backend" = ${run.backend}, "backendInfo" = ${run.backendInfo ?? null},
        "startedAt" = ${new Date()}, "finishedAt" = NULL, "error" = NULL, "attempts" = "attempts" + 1
      WHERE "id" = ${experimentId} AND "status" = ANY(${ACTIVE}::"ExperimentStatus"[])`;
    return count === 1;
  }

  /**
   * Stores one epoch (upsert on (experimentId, epoch)) and refreshes the summary columns from all
   * stored epochs, atomically: the summary is recomputed rather than accumulated so a re-run epoch
   * cannot skew it. Best epoch = first epoch reaching the highest val accuracy (the tutorial keeps
   * the first best: `if epoch_acc > best_acc`). Also says whether the run is a cell of a searched
   * sweep, the only runs whose epochs early stopping has to judge.
   *
   * One SQL statement, not an interactive transaction: every worker stores every epoch, and at
   * fleet scale (200 workers behind PgBouncer's 20 server connections) a 5-round-trip
   * transaction held a server connection ~5x as long, and the dispatch of new runs queued behind
   * it (bench:fleet, issue 16). The statement's CTEs share one snapshot, so the epoch just
   * upserted is not visible to the summary's SELECT: it is merged in by hand.
   */
  async recordEpoch(experimentId: string, metrics: EpochMetrics): Promise<StoredEpoch> {
    const v = toColumns(metrics);
    const rows = await this.prisma.$queryRaw<StoredEpoch[]>`
      WITH stored AS (
        INSERT INTO "EpochMetric" ("id", "experimentId", "epoch", "trainLoss", "trainAcc", "valLoss", "valAcc", "lrs", "seconds", "imagesPerSec", "trainableParams", "backboneDrift", "bnStatsDrift")
        VALUES (gen_random_uuid()::text, ${experimentId}, ${v.epoch}, ${v.trainLoss}, ${v.trainAcc}, ${v.valLoss}, ${v.valAcc}, ${v.lrs}::float8[], ${v.seconds}, ${v.imagesPerSec}, ${v.trainableParams}, ${v.backboneDrift}, ${v.bnStatsDrift})
        ON CONFLICT ("experimentId", "epoch") DO UPDATE SET
          "trainLoss" = EXCLUDED."trainLoss", "trainAcc" = EXCLUDED."trainAcc", "valLoss" = EXCLUDED."valLoss", "valAcc" = EXCLUDED."valAcc",
          "lrs" = EXCLUDED."lrs", "seconds" = EXCLUDED."seconds", "imagesPerSec" = EXCLUDED."imagesPerSec", "trainableParams" = EXCLUDED."trainableParams",
          "backboneDrift" = EXCLUDED."backboneDrift", "bnStatsDrift" = EXCLUDED."bnStatsDrift"
        RETURNING "epoch", "valAcc"
      ),
      epochs AS (
        SELECT "epoch", "valAcc" FROM "EpochMetric" WHERE "experimentId" = ${experimentId} AND "epoch" <> ${v.epoch}
        UNION ALL SELECT "epoch", "valAcc" FROM stored
      ),
      best AS (SELECT "epoch", "valAcc" FROM epochs ORDER BY "valAcc" DESC, "epoch" ASC LIMIT 1),
      last AS (SELECT "epoch", "valAcc" FROM epochs ORDER BY "epoch" DESC LIMIT 1)
      UPDATE "Experiment" e SET
        "epochsDone" = last."epoch", "finalValAcc" = last."valAcc", "bestEpoch" = best."epoch", "bestValAcc" = best."valAcc"
      FROM best, last
      WHERE e."id" = ${experimentId}
      RETURNING e."epochsDone", e."bestValAcc", e."bestEpoch", e."finalValAcc", e."trialId" IS NOT NULL AS "searched"`;
    const row = rows[0];
    // The experiment row is gone (deleted mid-run): the INSERT failed on its foreign key before this.
    if (!row) throw new Error(`experiment ${experimentId} does not exist`);
    return row;
  }

  /** running -> succeeded. Raw SQL for the reason markRunning is: every run ends with it. */
  async markSucceeded(experimentId: string): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE "Experiment" SET "status" = 'succeeded', "finishedAt" = ${new Date()}, "error" = NULL
      WHERE "id" = ${experimentId} AND "status" = 'running'`;
    return count === 1;
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
