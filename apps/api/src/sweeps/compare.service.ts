// Ranked comparison of a sweep's groups (by strategy or any config field): per group the
// distribution of best val accuracy over its finished runs, Welch's t-test against the best group,
// mean epoch time and mean/std learning curves. Only succeeded runs enter the statistics, so a
// half-finished sweep compares what is done.
import { Injectable, NotFoundException } from '@nestjs/common';
import { EXPERIMENT_CONFIG_FIELDS, type ExperimentConfigField } from '@fleet/queue';
import { SweepRepository, type CompareRun } from '@fleet/persistence';
import { FieldValidationException } from '../common/field-errors.js';
import type { CompareDto, CompareGroupDto, CompareRunDto, CurveDto } from './dto/sweep.response.js';
import { mean, sampleStd, welchTTest } from './statistics.js';

/** Below this many runs per group a comparison is anecdotal. */
const MIN_RUNS = 3;
const ALPHA = 0.05;

function orNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function curves(runs: CompareRun[]): CurveDto {
  const byEpoch = new Map<number, { valAcc: number[]; trainLoss: number[] }>();
  for (const run of runs) {
    for (const e of run.epochs) {
      const slot = byEpoch.get(e.epoch) ?? { valAcc: [], trainLoss: [] };
      slot.valAcc.push(e.valAcc);
      slot.trainLoss.push(e.trainLoss);
      byEpoch.set(e.epoch, slot);
    }
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
  const std = (xs: number[]): number => (xs.length < 2 ? 0 : sampleStd(xs));
  const at = (e: number) => byEpoch.get(e) ?? { valAcc: [], trainLoss: [] };
  return {
    epochs,
    valAccMean: epochs.map((e) => mean(at(e).valAcc)),
    valAccStd: epochs.map((e) => std(at(e).valAcc)),
    trainLossMean: epochs.map((e) => mean(at(e).trainLoss)),
    trainLossStd: epochs.map((e) => std(at(e).trainLoss)),
    n: epochs.map((e) => at(e).valAcc.length),
  };
}

function toRunDto(run: CompareRun): CompareRunDto {
  return {
    id: run.id,
    seed: run.config.seed,
    status: run.status,
    gridValues: run.gridValues ?? {},
    bestValAcc: run.bestValAcc,
    bestEpoch: run.bestEpoch,
    meanEpochSeconds: run.epochs.length > 0 ? mean(run.epochs.map((e) => e.seconds)) : null,
  };
}

function groupValue(run: CompareRun, field: ExperimentConfigField): string | number | null {
  const v = run.config[field];
  return v === undefined ? null : v;
}

@Injectable()
export class CompareService {
  constructor(private readonly sweeps: SweepRepository) {}

  async compare(sweepId: string, groupBy = 'strategy'): Promise<CompareDto> {
    if (!(EXPERIMENT_CONFIG_FIELDS as readonly string[]).includes(groupBy)) {
      throw FieldValidationException.of('groupBy', `groupBy must be one of: ${EXPERIMENT_CONFIG_FIELDS.join(', ')}`);
    }
    const field = groupBy as ExperimentConfigField;
    const runs = await this.sweeps.findForCompare(sweepId);
    if (!runs) throw new NotFoundException(`sweep ${sweepId} not found`);

    const groups = new Map<string, { value: string | number | null; runs: CompareRun[] }>();
    for (const run of runs) {
      const value = groupValue(run, field);
      const key = JSON.stringify(value);
      const g = groups.get(key) ?? { value, runs: [] };
      g.runs.push(run);
      groups.set(key, g);
    }

    const summaries = [...groups.values()].map((g) => {
      const done = g.runs.filter((r) => r.status === 'succeeded' && r.bestValAcc !== null);
      const accs = done.map((r) => r.bestValAcc as number);
      const best = done.reduce<CompareRun | null>((b, r) => (b === null || (r.bestValAcc as number) > (b.bestValAcc as number) ? r : b), null);
      const seconds = done.flatMap((r) => r.epochs.map((e) => e.seconds));
      return {
        value: g.value,
        accs,
        n: accs.length,
        meanBestValAcc: accs.length > 0 ? mean(accs) : null,
        stdBestValAcc: accs.length >= 2 ? sampleStd(accs) : null,
        bestRun: best ? toRunDto(best) : null,
        meanEpochSeconds: seconds.length > 0 ? mean(seconds) : null,
        runs: g.runs.map(toRunDto),
        curves: curves(done),
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
        ? `On a dataset this small (the tutorial's 244 train / 153 val images) seed noise can swamp differences between groups: ${warnings.join('; ')}. Treat the ranking as provisional and add seeds.`
        : null;
    return { sweepId, groupBy, groups: out, note };
  }
}
