// Sweeps: one row for the grid definition plus one experiment row per grid cell, written in one
// transaction so a sweep is either stored whole or not at all.
import type { ExperimentConfigField } from '@fleet/queue';
import { Prisma } from './generated/prisma/client.js';
import type { ExperimentStatus } from './generated/prisma/enums.js';
import { toExperimentColumns, toGridValues, type NewExperiment } from './experiment.mapper.js';
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
  /** Wall time of the run in seconds: finishedAt - startedAt, or so far while it runs; null before it starts. */
  seconds: number | null;
  error: string | null;
}

export interface SweepWithRuns extends SweepSummary {
  runs: SweepRun[];
}

/** One run of a compared sweep with the value of the grouping field. */
export interface CompareRun {
  id: string;
  seed: number;
  status: ExperimentStatus;
  gridValues: Record<string, unknown> | null;
  bestValAcc: number | null;
  bestEpoch: number | null;
  /** Epochs stored for the run, and the sum of their seconds (its mean epoch time is the quotient). */
  storedEpochs: number;
  epochSecondsSum: number;
  groupValue: string | number | null;
}

/** Per-epoch aggregates over one group's succeeded runs (those with a best val acc). */
export interface CompareEpochStats {
  epoch: number;
  n: number;
  valAccMean: number;
  /** Sample std; null when n < 2. */
  valAccStd: number | null;
  trainLossMean: number;
  trainLossStd: number | null;
}

export interface SweepComparison {
  /** In creation (grid) order. */
  runs: CompareRun[];
  /** Key: groupKey(group value). Epochs ascending; groups without a succeeded run are absent. */
  curves: Map<string, CompareEpochStats[]>;
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

/** What a comparison can group by: a config field, or `trial` (the runs of one trial of a searched sweep). */
export type CompareGroupField = ExperimentConfigField | 'trial';

function groupColumn(field: CompareGroupField): Prisma.Sql {
  if (field === 'trial') return Prisma.sql`(SELECT t."index" FROM "SweepTrial" t WHERE t."id" = e."trialId")`;
  if (!Object.hasOwn(GROUP_COLUMNS, field)) throw new Error(`not a groupable experiment field: ${String(field)}`);
  return Prisma.raw(`e.${GROUP_COLUMNS[field]}`);
}

export function groupKey(value: string | number | null): string {
  return JSON.stringify(value);
}

interface SweepRunRow extends Omit<SweepRun, 'gridValues'> {
  gridValues: unknown;
}

interface CompareRunRow extends Omit<CompareRun, 'gridValues'> {
  gridValues: unknown;
}

/** One group's aggregates at one epoch. */
interface CompareCurveRow extends CompareEpochStats {
  groupValue: string | number | null;
}

/** The runs that enter a comparison's statistics. */
const DONE = Prisma.sql`e."status" = 'succeeded' AND e."bestValAcc" IS NOT NULL`;

/**
 * The statements behind findWithRuns and compare, exported so that bench:history EXPLAINs exactly
 * what the API runs.
 */
export const sweepQueries = {
  /**
   * One row per run of the sweep, in creation (grid) order: only what the detail shows. The run's
   * duration is computed here (timestamps are stored in UTC): parsing two timestamps per row took
   * about as long in Node as reading everything else of 1000 rows.
   */
  runs(id: string): Prisma.Sql {
    return Prisma.sql`
      SELECT e."id", e."strategy", e."gridValues", e."status"::text AS "status", e."epochsDone", e."bestValAcc", e."bestEpoch",
             e."finalValAcc", e."error",
             extract(epoch FROM coalesce(e."finishedAt", now() AT TIME ZONE 'UTC') - e."startedAt")::float8 AS "seconds"
      FROM "Experiment" e
      WHERE e."sweepId" = ${id}
      ORDER BY e."createdAt" ASC, e."id" ASC`;
  },

  /** The runs of a comparison with their group value and epoch time (from the curve columns). */
  compareRuns(id: string, field: CompareGroupField): Prisma.Sql {
    return Prisma.sql`
      SELECT e."id", e."seed", e."status"::text AS "status", e."gridValues", e."bestValAcc", e."bestEpoch", ${groupColumn(field)} AS "groupValue",
             coalesce(cardinality(e."curveEpochs"), 0) AS "storedEpochs", e."epochSecondsSum"
      FROM "Experiment" e
      WHERE e."sweepId" = ${id}
      ORDER BY e."createdAt" ASC, e."id" ASC`;
  },

  /**
   * Per group and epoch, mean and sample std of val acc and train loss over the group's succeeded
   * runs, from the curve arrays that each Experiment row carries (kept equal to its EpochMetric
   * rows by triggers): one row read per run instead of one heap page per epoch row. unnest's
   * planner estimate (10 rows per run) keeps the plan's cost far below jit_above_cost: JIT
   * compilation would take longer than the query.
   */
  compareCurves(id: string, field: CompareGroupField): Prisma.Sql {
    return Prisma.sql`
      SELECT ${groupColumn(field)} AS "groupValue", u."epoch", count(*)::int AS "n",
             avg(e."curveValAcc"[u.i]) AS "valAccMean", stddev_samp(e."curveValAcc"[u.i]) AS "valAccStd",
             avg(e."curveTrainLoss"[u.i]) AS "trainLossMean", stddev_samp(e."curveTrainLoss"[u.i]) AS "trainLossStd"
      FROM "Experiment" e
      CROSS JOIN LATERAL unnest(e."curveEpochs") WITH ORDINALITY AS u("epoch", i)
      WHERE e."sweepId" = ${id} AND ${DONE}
      GROUP BY 1, 2
      ORDER BY 2`;
  },
};

/** Default number of sweeps list() returns. */
export const DEFAULT_SWEEP_LIST_LIMIT = 100;

function emptyCounts(): StatusCounts {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, stopped: 0 };
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
        INSERT INTO "Experiment" ("id", "name", "sweepId", "gridValues", "dataset", "weights", "parentExperimentId", "parentEpoch", "strategy", "lr", "lrFactor", "momentum", "weightDecay",
                                  "epochs", "batchSize", "imageSize", "seed", "stepSize", "gamma", "priority", "createdAt")
        SELECT "id", "name", "sweepId", "gridValues", "dataset", "weights", "parentExperimentId", "parentEpoch", "strategy", "lr", "lrFactor", "momentum", "weightDecay",
               "epochs", "batchSize", "imageSize", "seed", "stepSize", "gamma", "priority", "createdAt"
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          "id" text, "name" text, "sweepId" text, "gridValues" jsonb, "dataset" text, "weights" text, "parentExperimentId" text, "parentEpoch" text, "strategy" text,
          "lr" double precision, "lrFactor" double precision, "momentum" double precision, "weightDecay" double precision,
          "epochs" integer, "batchSize" integer, "imageSize" integer, "seed" integer, "stepSize" integer, "gamma" double precision,
          "priority" integer, "createdAt" timestamp(3))`,
    ]);
  }

  /** Deletes a sweep and (cascade) its experiments. */
  async delete(id: string): Promise<void> {
    await this.prisma.sweep.deleteMany({ where: { id } });
  }

  /**
   * Deletes a sweep whose runs have all ended, with (cascade) its runs, trials and epochs, and
   * returns the ids of the runs it removed (their files are the caller's to remove). Under the
   * sweep's row lock, which the search scheduler also takes, so no trial is handed out meanwhile.
   * Refused (active > 0) while a run is queued or running, and while chained runs outside the sweep
   * that start from one of its runs are queued or running (children); null when the id is unknown.
   */
  async deleteFinished(id: string): Promise<{ experimentIds: string[]; active: number; children: string[] } | null> {
    return this.prisma.$transaction(async (tx) => {
      const [sweep] = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Sweep" WHERE "id" = ${id} FOR UPDATE`;
      if (!sweep) return null;
      const runs = await tx.experiment.findMany({ where: { sweepId: id }, select: { id: true, status: true } });
      const active = runs.filter((r) => r.status === 'queued' || r.status === 'running').length;
      if (active > 0) return { experimentIds: [], active, children: [] };
      // Chained runs elsewhere that still have to start from one of these runs' models.
      const children = await tx.experiment.findMany({ where: { parentExperimentId: { in: runs.map((r) => r.id) }, sweepId: { not: id }, status: { in: ['queued', 'running'] } }, select: { id: true }, take: 10 });
      if (children.length > 0) return { experimentIds: [], active: 0, children: children.map((c) => c.id) };
      await tx.sweep.delete({ where: { id } });
      return { experimentIds: runs.map((r) => r.id), active: 0, children: [] };
    });
  }

  async list(limit = DEFAULT_SWEEP_LIST_LIMIT): Promise<SweepSummary[]> {
    const sweeps = await this.prisma.sweep.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
    const counts = await this.countByStatus(sweeps.map((s) => s.id));
    return sweeps.map((s) => this.summary(s, counts.get(s.id) ?? emptyCounts()));
  }

  /**
   * The sweep and its runs, read in parallel on two pool connections. The runs come through raw
   * SQL: Prisma's findMany took about twice as long as the query itself to map 1000 rows.
   */
  async findWithRuns(id: string): Promise<SweepWithRuns | null> {
    const [sweep, rows] = await Promise.all([
      this.prisma.sweep.findUnique({ where: { id } }),
      this.prisma.$queryRaw<SweepRunRow[]>(sweepQueries.runs(id)),
    ]);
    if (!sweep) return null;
    const counts = emptyCounts();
    const runs = rows.map((r) => {
      counts[r.status] += 1;
      return { ...r, gridValues: toGridValues(r.gridValues) };
    });
    return { ...this.summary(sweep, counts), runs };
  }

  /** The experiment fields every run of the sweep shares; null when the sweep is unknown. */
  async findBase(id: string): Promise<Record<string, unknown> | null> {
    const row = await this.prisma.sweep.findUnique({ where: { id }, select: { base: true } });
    return (row?.base as Record<string, unknown> | undefined) ?? null;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.prisma.sweep.findUnique({ where: { id }, select: { id: true } })) !== null;
  }

  /**
   * What a comparison of the sweep grouped by `field` needs: the runs (one row each, with their
   * group value and epoch time) and, per group, the per-epoch mean/std of val acc and train loss
   * over its succeeded runs, aggregated by Postgres from the runs' curve columns. The two reads
   * are independent and run in parallel on separate pool connections. null when the sweep is unknown
   * (a sweep has at least one run, so only an empty answer needs that check).
   */
  async compare(id: string, field: CompareGroupField): Promise<SweepComparison | null> {
    const [runRows, curveRows] = await Promise.all([
      this.prisma.$queryRaw<CompareRunRow[]>(sweepQueries.compareRuns(id, field)),
      this.prisma.$queryRaw<CompareCurveRow[]>(sweepQueries.compareCurves(id, field)),
    ]);
    if (runRows.length === 0 && !(await this.exists(id))) return null;
    const curves = new Map<string, CompareEpochStats[]>();
    for (const { groupValue, ...epoch } of curveRows) {
      const key = groupKey(groupValue);
      const epochs = curves.get(key);
      if (epochs) epochs.push(epoch);
      else curves.set(key, [epoch]);
    }
    const runs = runRows.map((r) => ({ ...r, gridValues: toGridValues(r.gridValues) }));
    return { runs, curves };
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
