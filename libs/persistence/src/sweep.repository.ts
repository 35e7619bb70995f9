// Sweeps: one row for the grid definition plus one experiment row per grid cell, written in one
// transaction so a sweep is either stored whole or not at all.
import type { ExperimentConfigField } from '@fleet/queue';
import { Prisma } from './generated/prisma/client.js';
import type { ExperimentStatus } from './generated/prisma/enums.js';
import { toExperimentColumns, type NewExperiment } from './experiment.mapper.js';
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

/** One run of a sweep, as much as the sweep detail shows (no config, no epochs). */
export interface SweepRun {
  id: string;
  strategy: string;
  gridValues: Record<string, unknown> | null;
  status: ExperimentStatus;
  epochsDone: number;
  bestValAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

export interface SweepWithRuns extends SweepSummary {
  runs: SweepRun[];
}

/** One run of a compared sweep with the value of the grouping field and its mean epoch time. */
export interface CompareRun {
  id: string;
  seed: number;
  status: ExperimentStatus;
  gridValues: Record<string, unknown> | null;
  bestValAcc: number | null;
  bestEpoch: number | null;
  /** Mean seconds over all its stored epochs; null when none is stored. */
  meanEpochSeconds: number | null;
  groupValue: string | number | null;
}

/** Sample statistics of one group (over its succeeded runs that have a best val acc). */
export interface SampleStats {
  n: number;
  /** null when n = 0. */
  mean: number | null;
  /** Sample variance (n - 1); null when n < 2. */
  variance: number | null;
}

/** Per-epoch aggregates of one group's succeeded runs. */
export interface CompareEpochStats {
  epoch: number;
  n: number;
  valAccMean: number;
  /** Sample std; null when n < 2. */
  valAccStd: number | null;
  trainLossMean: number;
  trainLossStd: number | null;
  secondsSum: number;
}

/** Aggregates of one group (key: JSON.stringify of its value), computed by Postgres. */
export interface CompareGroupStats {
  value: string | number | null;
  bestValAcc: SampleStats;
  /** Epochs ascending; succeeded runs only. */
  epochs: CompareEpochStats[];
}

export interface SweepComparison {
  /** In creation (grid) order. */
  runs: CompareRun[];
  groups: Map<string, CompareGroupStats>;
}

/**
 * Config field -> its column: the only way a caller's field name reaches SQL. Never interpolate
 * anything that is not a value of this table.
 */
const GROUP_COLUMNS: Readonly<Record<ExperimentConfigField, string>> = {
  dataset: '"dataset"',
  weights: '"weights"',
  strategy: '"strategy"',
  epochs: '"epochs"',
  batchSize: '"batchSize"',
  lr: '"lr"',
  lrFactor: '"lrFactor"',
  momentum: '"momentum"',
  weightDecay: '"weightDecay"',
  stepSize: '"stepSize"',
  gamma: '"gamma"',
  imageSize: '"imageSize"',
  seed: '"seed"',
};

function groupColumn(field: ExperimentConfigField): Prisma.Sql {
  if (!Object.hasOwn(GROUP_COLUMNS, field)) throw new Error(`not a groupable experiment field: ${String(field)}`);
  return Prisma.raw(`e.${GROUP_COLUMNS[field]}`);
}

export function groupKey(value: string | number | null): string {
  return JSON.stringify(value);
}

interface CompareRunRow {
  id: string;
  seed: number;
  status: ExperimentStatus;
  gridValues: unknown;
  bestValAcc: number | null;
  bestEpoch: number | null;
  groupValue: string | number | null;
  groupN: number;
  groupMean: number | null;
  groupVariance: number | null;
}

/** A row of the epoch aggregation: per run (perRun) or per group and epoch (the `done` runs only). */
interface CompareEpochRow {
  perRun: boolean;
  experimentId: string | null;
  groupValue: string | number | null;
  epoch: number | null;
  meanSeconds: number | null;
  n: number;
  valAccMean: number | null;
  valAccStd: number | null;
  trainLossMean: number | null;
  trainLossStd: number | null;
  secondsSum: number | null;
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
    const sweep = await this.prisma.sweep.findUnique({
      where: { id },
      include: {
        experiments: {
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: {
            id: true, strategy: true, gridValues: true, status: true, epochsDone: true, bestValAcc: true, bestEpoch: true,
            finalValAcc: true, startedAt: true, finishedAt: true, error: true,
          },
        },
      },
    });
    if (!sweep) return null;
    const { experiments, ...row } = sweep;
    const counts = emptyCounts();
    const runs = experiments.map((e) => {
      counts[e.status] += 1;
      return { ...e, gridValues: isObject(e.gridValues) ? e.gridValues : null };
    });
    return { ...this.summary(row, counts), runs };
  }

  async exists(id: string): Promise<boolean> {
    return (await this.prisma.sweep.findUnique({ where: { id }, select: { id: true } })) !== null;
  }

  /**
   * What a comparison of the sweep grouped by `field` needs, aggregated by Postgres: the runs (one
   * row each, with their mean epoch time), and per group the sample statistics of best val acc
   * and the per-epoch mean/std of val acc and train loss over the group's succeeded runs (those
   * with a best val acc). The epoch rows never leave the database. null when the sweep is unknown.
   */
  async compare(id: string, field: ExperimentConfigField): Promise<SweepComparison | null> {
    const col = groupColumn(field);
    const done = Prisma.sql`e."status" = 'succeeded' AND e."bestValAcc" IS NOT NULL`;
    // Independent reads on separate pool connections: latency is the slowest, not the sum. The
    // group statistics of best val acc ride along with the runs as window aggregates; the epoch
    // rows are read once, for both their groupings (per run, and per group and epoch).
    const [found, runRows, [, epochRows]] = await Promise.all([
      this.exists(id),
      this.prisma.$queryRaw<CompareRunRow[]>`
        SELECT e."id", e."seed", e."status"::text AS "status", e."gridValues", e."bestValAcc", e."bestEpoch", ${col} AS "groupValue",
               (count(*) FILTER (WHERE ${done}) OVER w)::int AS "groupN",
               avg(e."bestValAcc") FILTER (WHERE ${done}) OVER w AS "groupMean",
               var_samp(e."bestValAcc") FILTER (WHERE ${done}) OVER w AS "groupVariance"
        FROM "Experiment" e
        WHERE e."sweepId" = ${id}
        WINDOW w AS (PARTITION BY ${col})
        ORDER BY e."createdAt" ASC, e."id" ASC`,
      // One index lookup per run (OFFSET 0 keeps the planner from turning this into a hash join
      // over a sequential scan of every epoch row of every sweep); JIT off because the planner's
      // cost estimate of 1000 lookups crosses jit_above_cost and compiling costs more than it saves.
      this.prisma.$transaction([
        this.prisma.$executeRawUnsafe('SET LOCAL jit = off'),
        this.prisma.$queryRaw<CompareEpochRow[]>`
          SELECT GROUPING(e."id") = 0 AS "perRun", e."id" AS "experimentId", ${col} AS "groupValue", em."epoch",
                 avg(em."seconds") AS "meanSeconds",
                 (count(*) FILTER (WHERE ${done}))::int AS "n",
                 avg(em."valAcc") FILTER (WHERE ${done}) AS "valAccMean", stddev_samp(em."valAcc") FILTER (WHERE ${done}) AS "valAccStd",
                 avg(em."trainLoss") FILTER (WHERE ${done}) AS "trainLossMean", stddev_samp(em."trainLoss") FILTER (WHERE ${done}) AS "trainLossStd",
                 sum(em."seconds") FILTER (WHERE ${done}) AS "secondsSum"
          FROM "Experiment" e
          CROSS JOIN LATERAL (
            SELECT x."epoch", x."seconds", x."valAcc", x."trainLoss" FROM "EpochMetric" x WHERE x."experimentId" = e."id" OFFSET 0
          ) em
          WHERE e."sweepId" = ${id}
          GROUP BY GROUPING SETS ((e."id"), (${col}, em."epoch"))
          HAVING GROUPING(e."id") = 0 OR count(*) FILTER (WHERE ${done}) > 0
          ORDER BY em."epoch"`,
      ]),
    ]);
    if (!found) return null;
    const groups = new Map<string, CompareGroupStats>();
    const group = (value: string | number | null): CompareGroupStats => {
      const key = groupKey(value);
      let g = groups.get(key);
      if (!g) {
        g = { value, bestValAcc: { n: 0, mean: null, variance: null }, epochs: [] };
        groups.set(key, g);
      }
      return g;
    };
    const meanSeconds = new Map<string, number>();
    for (const r of epochRows) {
      if (r.perRun) {
        if (r.experimentId !== null && r.meanSeconds !== null) meanSeconds.set(r.experimentId, r.meanSeconds);
        continue;
      }
      const { epoch, n, valAccMean, valAccStd, trainLossMean, trainLossStd, secondsSum } = r;
      if (epoch === null || valAccMean === null || trainLossMean === null || secondsSum === null) continue;
      group(r.groupValue).epochs.push({ epoch, n, valAccMean, valAccStd, trainLossMean, trainLossStd, secondsSum });
    }
    const runs: CompareRun[] = runRows.map((r) => {
      group(r.groupValue).bestValAcc = { n: r.groupN, mean: r.groupMean, variance: r.groupVariance };
      return {
        id: r.id,
        seed: r.seed,
        status: r.status,
        gridValues: isObject(r.gridValues) ? r.gridValues : null,
        bestValAcc: r.bestValAcc,
        bestEpoch: r.bestEpoch,
        meanEpochSeconds: meanSeconds.get(r.id) ?? null,
        groupValue: r.groupValue,
      };
    });
    return { runs, groups };
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
