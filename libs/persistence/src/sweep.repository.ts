// Sweeps: one row for the grid definition plus one experiment row per grid cell, written in one
// transaction so a sweep is either stored whole or not at all.
import type { ExperimentStatus } from './generated/prisma/enums.js';
import { toExperimentColumns, toExperimentRecord, type ExperimentRecord, type NewExperiment } from './experiment.mapper.js';
import type { PrismaService } from './prisma.service.js';

export interface NewSweep {
  id: string;
  name?: string | null | undefined;
  base: Record<string, unknown>;
  grid: Record<string, unknown[]>;
}

export type StatusCounts = Record<ExperimentStatus, number>;

export interface SweepSummary {
  id: string;
  name: string | null;
  base: Record<string, unknown>;
  grid: Record<string, unknown[]>;
  createdAt: Date;
  total: number;
  counts: StatusCounts;
}

export interface SweepWithRuns extends SweepSummary {
  runs: ExperimentRecord[];
}

/** One epoch of one run, as much as a comparison needs. */
export interface CompareEpoch {
  epoch: number;
  valAcc: number;
  trainLoss: number;
  seconds: number;
}

export interface CompareRun extends ExperimentRecord {
  epochs: CompareEpoch[];
}

/** Default number of sweeps list() returns. */
export const DEFAULT_SWEEP_LIST_LIMIT = 100;

function emptyCounts(): StatusCounts {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

export class SweepRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Stores the sweep and all its experiments (status queued) in one transaction. createdAt grows
   * by one millisecond per cell so that creation order is grid order. The experiments go in as ONE
   * statement over jsonb_to_recordset: Prisma's createMany spent seconds building a 1000-row insert.
   */
  async createWithExperiments(sweep: NewSweep, experiments: NewExperiment[]): Promise<void> {
    const start = Date.now();
    const rows = experiments.map((e, i) => ({ ...toExperimentColumns({ ...e, sweepId: sweep.id }, new Date(start + i)), createdAt: new Date(start + i).toISOString() }));
    await this.prisma.$transaction([
      this.prisma.sweep.create({ data: { id: sweep.id, name: sweep.name ?? null, base: sweep.base as object, grid: sweep.grid as object, createdAt: new Date(start) } }),
      this.prisma.$executeRaw`
        INSERT INTO "Experiment" ("id", "name", "sweepId", "gridValues", "dataset", "weights", "strategy", "lr", "lrFactor", "momentum", "weightDecay",
                                  "epochs", "batchSize", "imageSize", "seed", "stepSize", "gamma", "priority", "createdAt")
        SELECT "id", "name", "sweepId", "gridValues", "dataset", "weights", "strategy", "lr", "lrFactor", "momentum", "weightDecay",
               "epochs", "batchSize", "imageSize", "seed", "stepSize", "gamma", "priority", "createdAt"
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          "id" text, "name" text, "sweepId" text, "gridValues" jsonb, "dataset" text, "weights" text, "strategy" text,
          "lr" double precision, "lrFactor" double precision, "momentum" double precision, "weightDecay" double precision,
          "epochs" integer, "batchSize" integer, "imageSize" integer, "seed" integer, "stepSize" integer, "gamma" double precision,
          "priority" integer, "createdAt" timestamp(3))`,
    ]);
  }

  /** Deletes a sweep and (cascade) its experiments. */
  async delete(id: string): Promise<void> {
    await this.prisma.sweep.deleteMany({ where: { id } });
  }

  async list(limit = DEFAULT_SWEEP_LIST_LIMIT): Promise<SweepSummary[]> {
    const sweeps = await this.prisma.sweep.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
    const counts = await this.countByStatus(sweeps.map((s) => s.id));
    return sweeps.map((s) => this.summary(s, counts.get(s.id) ?? emptyCounts()));
  }

  async findWithRuns(id: string): Promise<SweepWithRuns | null> {
    const sweep = await this.prisma.sweep.findUnique({ where: { id }, include: { experiments: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } } });
    if (!sweep) return null;
    const runs = sweep.experiments.map(toExperimentRecord);
    const counts = emptyCounts();
    for (const run of runs) counts[run.status] += 1;
    return { ...this.summary(sweep, counts), runs };
  }

  /** The sweep's runs with the per-epoch values a comparison needs; null when the sweep is unknown. */
  async findForCompare(id: string): Promise<CompareRun[] | null> {
    const sweep = await this.prisma.sweep.findUnique({
      where: { id },
      include: {
        experiments: {
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          include: { epochMetrics: { select: { epoch: true, valAcc: true, trainLoss: true, seconds: true }, orderBy: { epoch: 'asc' } } },
        },
      },
    });
    if (!sweep) return null;
    return sweep.experiments.map(({ epochMetrics, ...row }) => ({ ...toExperimentRecord(row), epochs: epochMetrics }));
  }

  private async countByStatus(sweepIds: string[]): Promise<Map<string, StatusCounts>> {
    const out = new Map<string, StatusCounts>();
    if (sweepIds.length === 0) return out;
    const groups = await this.prisma.experiment.groupBy({ by: ['sweepId', 'status'], where: { sweepId: { in: sweepIds } }, _count: { _all: true } });
    for (const g of groups) {
      if (g.sweepId === null) continue;
      const counts = out.get(g.sweepId) ?? emptyCounts();
      counts[g.status] = g._count._all;
      out.set(g.sweepId, counts);
    }
    return out;
  }

  private summary(s: { id: string; name: string | null; base: unknown; grid: unknown; createdAt: Date }, counts: StatusCounts): SweepSummary {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return { id: s.id, name: s.name, base: s.base as Record<string, unknown>, grid: s.grid as Record<string, unknown[]>, createdAt: s.createdAt, total, counts };
  }
}
