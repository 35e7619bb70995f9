// Searched sweeps in the database: trials handed out one at a time and early-stopping decisions
// made once. Both run under the sweep row's lock (SELECT ... FOR UPDATE), so two API replicas, a
// retried request or two workers reporting at once are serialised per sweep: a trial index is
// handed out once, never more than maxConcurrent cells are queued or running, and a (trial, rung)
// is decided once (its primary key backs that up) with every earlier value of the rung in view.
import type { CategoricalValue, StopReason, SweepMetricName, SweepSearchSpec } from '@fleet/contracts';
import type { ExperimentConfigData } from '@fleet/queue';
import { ashaRungs, decideAtRung } from '@fleet/search';
import { Prisma } from './generated/prisma/client.js';
import { toExperimentColumns, toExperimentRecord, type ExperimentRecord } from './experiment.mapper.js';
import type { PrismaService } from './prisma.service.js';

export type TrialParams = Record<string, CategoricalValue>;

/** A trial handed out earlier, as a sampler sees it: value null while no cell has a result. */
export interface TrialHistoryEntry {
  index: number;
  params: TrialParams;
  value: number | null;
}

/** What the API supplies to fill a sweep: how to choose a trial and how to build a cell's config. */
export interface FillPlan {
  suggest(index: number, history: readonly TrialHistoryEntry[]): TrialParams;
  cellConfig(params: TrialParams, seed: number): ExperimentConfigData;
}

export interface NewSearchedSweep {
  id: string;
  name: string | null;
  base: Record<string, unknown>;
  search: SweepSearchSpec;
  priority: number;
  /** The queue (prefix) its cells go to: only schedulers of that queue top it up. */
  queuePrefix: string;
}

export interface FillResult {
  /** Cells created by this call. */
  created: ExperimentRecord[];
  /** Every queued cell of the sweep (created now or before): enqueueing them again is a no-op. */
  queued: ExperimentRecord[];
  /** True once every trial is handed out and every cell has ended. */
  finished: boolean;
}

/** One cell of a trial with its best value of the sweep's metric (and the epoch it came at). */
export interface SearchCell {
  id: string;
  seed: number;
  status: string;
  epochsDone: number;
  epochs: number;
  best: number | null;
  bestEpoch: number | null;
  stopReason: StopReason | null;
}

export interface SearchTrial {
  id: string;
  index: number;
  params: TrialParams;
  /** Cells in creation order. */
  cells: SearchCell[];
}

export interface SearchRungDecision {
  trialIndex: number;
  rung: number;
  value: number;
  cutoff: number | null;
  compared: number;
  decision: string;
  createdAt: Date;
}

/** What the sweep detail shows of a searched sweep. */
export interface SearchDetail {
  spec: SweepSearchSpec;
  trialsCreated: number;
  cancelledAt: Date | null;
  finishedAt: Date | null;
  /** By index. */
  trials: SearchTrial[];
  /** In decision order. */
  decisions: SearchRungDecision[];
}

/** The stored search JSON: the spec plus the sweep's priority and queue. */
interface StoredSearch extends SweepSearchSpec {
  priority: number;
  queuePrefix: string;
}

/** Metric name -> EpochMetric column: the only way a metric name reaches SQL. */
const METRIC_COLUMNS: Readonly<Record<SweepMetricName, string>> = { valAcc: '"valAcc"', valLoss: '"valLoss"', trainAcc: '"trainAcc"', trainLoss: '"trainLoss"' };

function metricColumn(name: SweepMetricName): Prisma.Sql {
  if (!Object.hasOwn(METRIC_COLUMNS, name)) throw new Error(`not a sweep metric: ${String(name)}`);
  return Prisma.raw(`m.${METRIC_COLUMNS[name]}`);
}

const ACTIVE = new Set(['queued', 'running']);
/** Cells whose result counts for their trial (a stopped cell's best so far is a result too). */
const RESULT = new Set(['succeeded', 'stopped']);

interface SweepLockRow {
  search: StoredSearch | null;
  trialsCreated: number;
  cancelledAt: Date | null;
  finishedAt: Date | null;
}

interface CellRow {
  id: string;
  trialId: string | null;
  seed: number;
  status: string;
  best: number | null;
}

interface TrialRow {
  id: string;
  index: number;
  params: TrialParams;
  stopped: boolean;
}

type Tx = Prisma.TransactionClient;

export class SweepSearchRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Stores a searched sweep; its cells are created by fill. */
  async create(sweep: NewSearchedSweep): Promise<void> {
    const search: StoredSearch = { ...sweep.search, priority: sweep.priority, queuePrefix: sweep.queuePrefix };
    await this.prisma.sweep.create({ data: { id: sweep.id, name: sweep.name, base: sweep.base as object, grid: {}, search: search as unknown as object } });
  }

  async getSearch(id: string): Promise<SweepSearchSpec | null> {
    const row = await this.prisma.sweep.findUnique({ where: { id }, select: { search: true } });
    return row?.search ? specOf(row.search as unknown as StoredSearch) : null;
  }

  /** Searched sweeps of a queue still handing out work (not finished, not cancelled), oldest first. */
  async listActive(queuePrefix: string): Promise<string[]> {
    const rows = await this.prisma.sweep.findMany({
      where: { search: { path: ['queuePrefix'], equals: queuePrefix }, finishedAt: null, cancelledAt: null },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => r.id);
  }

  /**
   * Creates cells until maxConcurrent of the sweep are queued or running: first the missing seeds
   * of trials handed out earlier (unless the trial was stopped), then new trials while fewer than
   * maxTrials exist. Returns null when the sweep is unknown or not a searched sweep.
   */
  async fill(sweepId: string, plan: FillPlan): Promise<FillResult | null> {
    return this.prisma.$transaction(async (tx) => {
      const sweep = await this.lock(tx, sweepId);
      if (!sweep?.search) return null;
      const spec = sweep.search;
      if (sweep.cancelledAt || sweep.finishedAt) return { created: [], queued: [], finished: sweep.finishedAt !== null };
      const cells = await tx.$queryRaw<CellRow[]>(Prisma.sql`
        SELECT e."id", e."trialId", e."seed", e."status"::text AS "status",
               (SELECT ${spec.metric.goal === 'maximize' ? Prisma.sql`max` : Prisma.sql`min`}(${metricColumn(spec.metric.name)}) FROM "EpochMetric" m WHERE m."experimentId" = e."id") AS "best"
        FROM "Experiment" e WHERE e."sweepId" = ${sweepId}`);
      const trials = await tx.$queryRaw<TrialRow[]>(Prisma.sql`
        SELECT t."id", t."index", t."params",
               EXISTS (SELECT 1 FROM "RungDecision" r WHERE r."trialId" = t."id" AND r."decision" = 'stop') AS "stopped"
        FROM "SweepTrial" t WHERE t."sweepId" = ${sweepId} ORDER BY t."index"`);

      let free = spec.budget.maxConcurrent - cells.filter((c) => ACTIVE.has(c.status)).length;
      const created: ExperimentRecord[] = [];
      const addCells = async (trial: { id: string; params: TrialParams }, seeds: number[]) => {
        for (const seed of seeds) {
          if (free <= 0) return;
          const config = plan.cellConfig(trial.params, seed);
          const columns = toExperimentColumns({ id: crypto.randomUUID(), name: null, sweepId, gridValues: { ...trial.params, seed }, config, priority: spec.priority }, new Date());
          const row = await tx.experiment.create({ data: { ...columns, trialId: trial.id } });
          created.push(toExperimentRecord(row));
          cells.push({ id: row.id, trialId: trial.id, seed, status: 'queued', best: null });
          free -= 1;
        }
      };
      const missingSeeds = (trialId: string) => spec.seeds.filter((s) => !cells.some((c) => c.trialId === trialId && c.seed === s));

      for (const trial of trials) if (!trial.stopped) await addCells(trial, missingSeeds(trial.id));
      let trialsCreated = sweep.trialsCreated;
      while (free > 0 && trialsCreated < spec.budget.maxTrials) {
        const params = plan.suggest(trialsCreated, history(trials, cells));
        const trial = await tx.sweepTrial.create({ data: { sweepId, index: trialsCreated, params } });
        trials.push({ id: trial.id, index: trial.index, params, stopped: false });
        trialsCreated += 1;
        await addCells(trial as { id: string; params: TrialParams }, spec.seeds);
      }
      const incomplete = trials.some((t) => !t.stopped && missingSeeds(t.id).length > 0);
      const finished = trialsCreated >= spec.budget.maxTrials && !incomplete && cells.every((c) => !ACTIVE.has(c.status));
      await tx.sweep.update({ where: { id: sweepId }, data: { trialsCreated, ...(finished ? { finishedAt: new Date() } : {}) } });
      const queued = await tx.experiment.findMany({ where: { sweepId, status: 'queued' }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      return { created, queued: queued.map(toExperimentRecord), finished };
    });
  }

  /**
   * Called by the worker after it stored an epoch of a cell: at a rung epoch, decides the cell's
   * trial there (once: a later report of the same (trial, rung) reads the stored decision) on the
   * mean of the metric over the trial's cells that reached the rung. Returns the reason to stop
   * when the trial was stopped at this or an earlier rung (its queued cells are stopped here; a
   * running cell is stopped by its worker); null to go on.
   */
  async reportEpoch(experimentId: string, epoch: number): Promise<StopReason | null> {
    const cell = await this.prisma.experiment.findUnique({ where: { id: experimentId }, select: { trialId: true, sweepId: true, epochs: true } });
    if (!cell?.trialId || !cell.sweepId) return null;
    const { trialId, sweepId } = cell;
    return this.prisma.$transaction(async (tx) => {
      const sweep = await this.lock(tx, sweepId);
      const asha = sweep?.search?.earlyStop;
      if (!sweep?.search || !asha) return null;
      const metric = sweep.search.metric;
      if (ashaRungs(asha, cell.epochs).includes(epoch)) {
        const done = await tx.rungDecision.findUnique({ where: { trialId_rung: { trialId, rung: epoch } } });
        if (!done) {
          const [mean] = await tx.$queryRaw<{ value: number | null }[]>(Prisma.sql`
            SELECT avg(${metricColumn(metric.name)})::float8 AS "value"
            FROM "EpochMetric" m JOIN "Experiment" e ON e."id" = m."experimentId"
            WHERE e."trialId" = ${trialId} AND m."epoch" = ${epoch}`);
          const value = mean?.value;
          if (value !== null && value !== undefined) {
            const recorded = await tx.rungDecision.findMany({ where: { sweepId, rung: epoch, trialId: { not: trialId } }, select: { value: true } });
            const d = decideAtRung(recorded.map((r) => r.value), value, epoch, asha, metric.goal);
            await tx.$executeRaw`
              INSERT INTO "RungDecision" ("trialId", "sweepId", "rung", "value", "cutoff", "compared", "decision")
              VALUES (${trialId}, ${sweepId}, ${epoch}, ${d.value}, ${d.cutoff}, ${d.compared}, ${d.decision})
              ON CONFLICT ("trialId", "rung") DO NOTHING`;
          }
        }
      }
      const stop = await tx.rungDecision.findFirst({ where: { trialId, decision: 'stop' }, orderBy: { rung: 'asc' } });
      if (!stop || stop.cutoff === null) return null;
      const reason: StopReason = { rung: stop.rung, value: stop.value, cutoff: stop.cutoff, compared: stop.compared };
      await tx.experiment.updateMany({ where: { trialId, status: 'queued' }, data: { status: 'stopped', stopReason: reason as unknown as object, finishedAt: new Date() } });
      return reason;
    });
  }

  /** Trials, cells (with their best metric value) and rung decisions; null for an unknown or grid sweep. */
  async detail(sweepId: string): Promise<SearchDetail | null> {
    const sweep = await this.prisma.sweep.findUnique({ where: { id: sweepId }, select: { search: true, trialsCreated: true, cancelledAt: true, finishedAt: true } });
    const spec = sweep?.search as StoredSearch | null | undefined;
    if (!sweep || !spec) return null;
    const column = metricColumn(spec.metric.name);
    const order = spec.metric.goal === 'maximize' ? Prisma.sql`DESC` : Prisma.sql`ASC`;
    const [trials, cells, decisions] = await Promise.all([
      this.prisma.sweepTrial.findMany({ where: { sweepId }, orderBy: { index: 'asc' }, select: { id: true, index: true, params: true } }),
      this.prisma.$queryRaw<(SearchCell & { trialId: string })[]>(Prisma.sql`
        SELECT e."id", e."trialId", e."seed", e."status"::text AS "status", e."epochsDone", e."epochs", e."stopReason", b."best", b."epoch" AS "bestEpoch"
        FROM "Experiment" e
        LEFT JOIN LATERAL (SELECT ${column} AS "best", m."epoch" FROM "EpochMetric" m WHERE m."experimentId" = e."id" ORDER BY ${column} ${order}, m."epoch" ASC LIMIT 1) b ON true
        WHERE e."sweepId" = ${sweepId}
        ORDER BY e."createdAt" ASC, e."id" ASC`),
      this.prisma.rungDecision.findMany({ where: { sweepId }, orderBy: [{ createdAt: 'asc' }, { rung: 'asc' }], include: { trial: { select: { index: true } } } }),
    ]);
    return {
      spec: specOf(spec),
      trialsCreated: sweep.trialsCreated,
      cancelledAt: sweep.cancelledAt,
      finishedAt: sweep.finishedAt,
      trials: trials.map((t) => ({ id: t.id, index: t.index, params: t.params as TrialParams, cells: cells.filter((c) => c.trialId === t.id).map(({ trialId: _, ...c }) => c) })),
      decisions: decisions.map((d) => ({ trialIndex: d.trial.index, rung: d.rung, value: d.value, cutoff: d.cutoff, compared: d.compared, decision: d.decision, createdAt: d.createdAt })),
    };
  }

  /** Stops scheduling the sweep; returns its queued and running cells (for the caller to cancel). */
  async cancel(sweepId: string): Promise<string[] | null> {
    return this.prisma.$transaction(async (tx) => {
      const sweep = await this.lock(tx, sweepId);
      if (!sweep) return null;
      await tx.sweep.update({ where: { id: sweepId }, data: { cancelledAt: sweep.cancelledAt ?? new Date() } });
      const open = await tx.experiment.findMany({ where: { sweepId, status: { in: ['queued', 'running'] } }, select: { id: true } });
      return open.map((o) => o.id);
    });
  }

  private async lock(tx: Tx, sweepId: string): Promise<SweepLockRow | undefined> {
    const [row] = await tx.$queryRaw<SweepLockRow[]>`SELECT "search", "trialsCreated", "cancelledAt", "finishedAt" FROM "Sweep" WHERE "id" = ${sweepId} FOR UPDATE`;
    return row;
  }
}

function specOf(stored: StoredSearch): SweepSearchSpec {
  const { priority: _p, queuePrefix: _q, ...spec } = stored;
  return spec;
}

/** Each trial's result: the mean over its cells with a result of their best metric value. */
function history(trials: readonly TrialRow[], cells: readonly CellRow[]): TrialHistoryEntry[] {
  return trials.map((t) => {
    const values = cells.filter((c) => c.trialId === t.id && RESULT.has(c.status) && c.best !== null).map((c) => c.best!);
    return { index: t.index, params: t.params, value: values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null };
  });
}
