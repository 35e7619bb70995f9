// Ranked comparison of a sweep's groups (by strategy or any config field): per group the
// distribution of best val accuracy over its finished runs, Welch's t-test against the best group,
// mean epoch time and mean/std learning curves. Only succeeded runs enter the statistics, so a
// half-finished sweep compares what is done.
import { Injectable, NotFoundException } from '@nestjs/common';
import { EXPERIMENT_CONFIG_FIELDS } from '@fleet/queue';
import { SweepRepository, groupKey, type CompareEpochStats, type CompareGroupField, type CompareRun } from '@fleet/persistence';
import { FieldValidationException } from '../common/field-errors.js';
import type { CompareDto, CompareGroupDto, CompareRunDto, CurveDto } from './dto/sweep.response.js';
import { mean, sampleStd, welchTTest } from './statistics.js';

/** Below this many runs per group a comparison is anecdotal. */
const MIN_RUNS = 3;
const ALPHA = 0.05;

function orNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

// The per-epoch aggregation is done by Postgres in SweepRepository.compare: the 25 epochs per run
// of a 1000-run sweep never reach the API. What is left per group (its runs' best val acc and
// epoch times) is one value per run, and the runs are here anyway.
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
    meanEpochSeconds: run.storedEpochs > 0 ? run.epochSecondsSum / run.storedEpochs : null,
  };
}

/** A run that enters the statistics: succeeded, with a best val acc. */
function isDone(run: CompareRun): run is CompareRun & { bestValAcc: number } {
  return run.status === 'succeeded' && run.bestValAcc !== null;
}

@Injectable()
export class CompareService {
  constructor(private readonly sweeps: SweepRepository) {}

  async compare(sweepId: string, groupBy = 'strategy'): Promise<CompareDto> {
    if (groupBy !== 'trial' && !(EXPERIMENT_CONFIG_FIELDS as readonly string[]).includes(groupBy)) {
      throw FieldValidationException.of('groupBy', `groupBy must be trial or one of: ${EXPERIMENT_CONFIG_FIELDS.join(', ')}`);
    }
    const field = groupBy as CompareGroupField;
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
      const done = g.runs.filter(isDone);
      const accs = done.map((r) => r.bestValAcc);
      // The first run reaching the group's highest best val acc.
      const best = done.reduce<(typeof done)[number] | null>((b, r) => (b !== null && r.bestValAcc <= b.bestValAcc ? b : r), null);
      const epochCount = done.reduce((n, r) => n + r.storedEpochs, 0);
      const secondsSum = done.reduce((s, r) => s + r.epochSecondsSum, 0);
      return {
        value: g.value,
        accs,
        n: accs.length,
        meanBestValAcc: accs.length > 0 ? mean(accs) : null,
        stdBestValAcc: accs.length >= 2 ? sampleStd(accs) : null,
        bestRun: best ? toRunDto(best) : null,
        meanEpochSeconds: epochCount > 0 ? secondsSum / epochCount : null,
        runs: g.runs.map(toRunDto),
        curves: curves(comparison.curves.get(key) ?? []),
      };
    });
    // Best mean first; groups with nothing finished last; ties keep a stable order by value.
    summaries.sort((a, b) => (b.meanBestValAcc ?? -Infinity) - (a.meanBestValAcc ?? -Infinity) || String(a.value).localeCompare(String(b.value)));
    const top = summaries[0];

    const warnings: string[] = [];
    const out: CompareGroupDto[] = summaries.map((s, i) => {
      const test = i === 0 || !top ? null : welchTTest(top.accs, s.accs);
      const pValue = test ? orNull(test.p) : null;
      if (s.n > 0 && s.n < MIN_RUNS) warnings.push(`${groupBy}=${String(s.value)} has n=${s.n} < ${MIN_RUNS} finished runs`);
      if (pValue !== null && pValue > ALPHA) warnings.push(`${groupBy}=${String(s.value)} vs ${String(top?.value)}: p=${pValue.toPrecision(2)} > ${ALPHA}`);
      const { accs: _accs, ...rest } = s;
      return { rank: i + 1, ...rest, pValue };
    });
    const note =
      warnings.length > 0
        ? `On datasets as small as the tutorial's (244 train / 153 val images) seed noise can swamp differences between groups: ${warnings.join('; ')}. Treat the ranking as provisional and add seeds.`
        : null;
    return { sweepId, groupBy, groups: out, note };
  }
}
