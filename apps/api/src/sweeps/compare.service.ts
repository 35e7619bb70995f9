// Ranked comparison of a sweep's groups (by strategy or any config field): per group the
// distribution of best val accuracy over its finished runs, Welch's t-test against the best group,
// mean epoch time and mean/std learning curves. Only succeeded runs enter the statistics, so a
// half-finished sweep compares what is done.
import { Injectable, NotFoundException } from '@nestjs/common';
import { EXPERIMENT_CONFIG_FIELDS, type ExperimentConfigField } from '@fleet/queue';
import { SweepRepository, groupKey, type CompareEpochStats, type CompareRun, type SampleStats } from '@fleet/persistence';
import { FieldValidationException } from '../common/field-errors.js';
import type { CompareDto, CompareGroupDto, CompareRunDto, CurveDto } from './dto/sweep.response.js';
import { welchTTestFromSummary, type SampleSummary } from './statistics.js';

/** Below this many runs per group a comparison is anecdotal. */
const MIN_RUNS = 3;
const ALPHA = 0.05;

function orNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

// The aggregation (per group and per epoch) is done by Postgres in SweepRepository.compare: the
// 25 rows per run of a 1000-run sweep never reach the API.
function curves(epochs: readonly CompareEpochStats[]): CurveDto {
  return {
    epochs: epochs.map((e) => e.epoch),
    valAccMean: epochs.map((e) => e.valAccMean),
    valAccStd: epochs.map((e) => e.valAccStd ?? 0),
    trainLossMean: epochs.map((e) => e.trainLossMean),
    trainLossStd: epochs.map((e) => e.trainLossStd ?? 0),
    n: epochs.map((e) => e.n),
  };
}

function toRunDto(run: CompareRun): CompareRunDto {
  return {
    id: run.id,
    seed: run.seed,
    status: run.status,
    gridValues: run.gridValues ?? {},
    bestValAcc: run.bestValAcc,
    bestEpoch: run.bestEpoch,
    meanEpochSeconds: run.meanEpochSeconds,
  };
}

function summary(s: SampleStats): SampleSummary | null {
  return s.mean === null || s.variance === null ? null : { n: s.n, mean: s.mean, variance: s.variance };
}

@Injectable()
export class CompareService {
  constructor(private readonly sweeps: SweepRepository) {}

  async compare(sweepId: string, groupBy = 'strategy'): Promise<CompareDto> {
    if (!(EXPERIMENT_CONFIG_FIELDS as readonly string[]).includes(groupBy)) {
      throw FieldValidationException.of('groupBy', `groupBy must be one of: ${EXPERIMENT_CONFIG_FIELDS.join(', ')}`);
    }
    const field = groupBy as ExperimentConfigField;
    const comparison = await this.sweeps.compare(sweepId, field);
    if (!comparison) throw new NotFoundException(`sweep ${sweepId} not found`);

    // Groups in order of their first run, so that the stable sort below keeps the old tie order.
    const groups = new Map<string, { value: string | number | null; runs: CompareRun[] }>();
    for (const run of comparison.runs) {
      const key = groupKey(run.groupValue);
      const g = groups.get(key) ?? { value: run.groupValue, runs: [] };
      g.runs.push(run);
      groups.set(key, g);
    }

    const summaries = [...groups.entries()].map(([key, g]) => {
      const stats = comparison.groups.get(key);
      const acc: SampleStats = stats?.bestValAcc ?? { n: 0, mean: null, variance: null };
      const epochs = stats?.epochs ?? [];
      const best = g.runs.reduce<CompareRun | null>(
        (b, r) => (r.status !== 'succeeded' || r.bestValAcc === null || (b !== null && r.bestValAcc <= (b.bestValAcc as number)) ? b : r),
        null,
      );
      const epochCount = epochs.reduce((n, e) => n + e.n, 0);
      const secondsSum = epochs.reduce((s, e) => s + e.secondsSum, 0);
      return {
        value: g.value,
        acc,
        n: acc.n,
        meanBestValAcc: acc.n > 0 ? acc.mean : null,
        stdBestValAcc: acc.n >= 2 && acc.variance !== null ? Math.sqrt(acc.variance) : null,
        bestRun: best ? toRunDto(best) : null,
        meanEpochSeconds: epochCount > 0 ? secondsSum / epochCount : null,
        runs: g.runs.map(toRunDto),
        curves: curves(epochs),
      };
    });
    // Best mean first; groups with nothing finished last; ties keep a stable order by value.
    summaries.sort((a, b) => (b.meanBestValAcc ?? -Infinity) - (a.meanBestValAcc ?? -Infinity) || String(a.value).localeCompare(String(b.value)));
    const top = summaries[0];
    const topSummary = top ? summary(top.acc) : null;

    const warnings: string[] = [];
    const out: CompareGroupDto[] = summaries.map((s, i) => {
      const other = summary(s.acc);
      const test = i === 0 || !topSummary || !other ? null : welchTTestFromSummary(topSummary, other);
      const pValue = test ? orNull(test.p) : null;
      if (s.n > 0 && s.n < MIN_RUNS) warnings.push(`${groupBy}=${String(s.value)} has n=${s.n} < ${MIN_RUNS} finished runs`);
      if (pValue !== null && pValue > ALPHA) warnings.push(`${groupBy}=${String(s.value)} vs ${String(top?.value)}: p=${pValue.toPrecision(2)} > ${ALPHA}`);
      const { acc: _acc, ...rest } = s;
      return { rank: i + 1, ...rest, pValue };
    });
    const note =
      warnings.length > 0
        ? `On a dataset this small (the tutorial's 244 train / 153 val images) seed noise can swamp differences between groups: ${warnings.join('; ')}. Treat the ranking as provisional and add seeds.`
        : null;
    return { sweepId, groupBy, groups: out, note };
  }
}
