// How the API turns a searched sweep's spec into trials and cells: the sampler of its method, and
// a cell's full experiment config (base + the trial's values + a seed, defaults applied, checked
// against ExperimentConfig). Pure: the scheduler runs it inside the hand-out transaction.
import { isCategorical, type CategoricalValue, type ParameterDistribution, type SweepSearchSpec } from '@fleet/contracts';
import type { FillPlan, TrialHistoryEntry, TrialParams } from '@fleet/persistence';
import { applyExperimentDefaults, validateExperimentConfig, type ExperimentConfigData, type FieldError } from '@fleet/queue';
import { randomTrialConfig, snap, tpeTrialConfig } from '@fleet/search';
import { expandGrid } from './grid.js';

/** The index-th cell of a grid search over the categorical parameters (last key fastest). */
function gridTrial(parameters: Record<string, ParameterDistribution>, index: number): TrialParams {
  const grid: Record<string, CategoricalValue[]> = {};
  for (const [name, d] of Object.entries(parameters)) grid[name] = isCategorical(d) ? d.values : [];
  let i = 0;
  for (const cell of expandGrid(grid)) if (i++ === index) return cell as TrialParams;
  throw new RangeError(`grid trial ${index} is past the grid`);
}

function suggest(spec: SweepSearchSpec, index: number, history: readonly TrialHistoryEntry[]): TrialParams {
  switch (spec.method) {
    case 'grid':
      return gridTrial(spec.parameters, index);
    case 'random':
      return randomTrialConfig(spec.parameters, spec.searchSeed, index);
    case 'tpe':
      return tpeTrialConfig(spec.parameters, history.map((h) => ({ config: h.params, value: h.value })), spec.metric.goal, spec.searchSeed, index);
  }
}

export function cellConfig(base: Record<string, unknown>, params: TrialParams, seed: number): { config: ExperimentConfigData; errors: FieldError[] } {
  const merged: Record<string, unknown> = applyExperimentDefaults({ ...base, ...params, seed });
  return { config: merged as unknown as ExperimentConfigData, errors: validateExperimentConfig(merged) };
}

export function fillPlan(base: Record<string, unknown>, spec: SweepSearchSpec): FillPlan {
  return {
    suggest: (index, history) => suggest(spec, index, history),
    cellConfig: (params, seed) => {
      const { config, errors } = cellConfig(base, params, seed);
      // Submit checked every parameter's extremes against the rules, so this is a bug, not input.
      if (errors.length > 0) throw new Error(`trial config ${JSON.stringify(params)} is invalid: ${errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`);
      return config;
    },
  };
}

/** The values of a parameter that bound what a trial can get: both ends of a range, every choice. */
function probes(d: ParameterDistribution): CategoricalValue[] {
  return isCategorical(d) ? d.values : [snap(d, d.min), snap(d, d.max)];
}

/**
 * Checks base and every parameter's extreme values against ExperimentConfig before anything is
 * stored: each problem names `base.<field>` or `parameters.<field>` (with the offending value).
 */
export function checkSearchCells(base: Record<string, unknown>, spec: SweepSearchSpec): FieldError[] {
  const typical: TrialParams = {};
  for (const [name, d] of Object.entries(spec.parameters)) typical[name] = probes(d)[0]!;
  const errors = new Map<string, FieldError>();
  // A problem of a searched field names it with the value; one of a base field that only some
  // parameter value causes (weights for strategy=freeze) says which.
  const add = (e: FieldError, params: TrialParams, varied?: string) => {
    const top = e.field.split('.')[0] ?? e.field;
    const searched = Object.hasOwn(spec.parameters, top);
    const field = searched ? `parameters.${e.field}` : `base.${e.field}`;
    const context = searched ? ` (at ${top}=${String(params[top])})` : varied ? ` (with ${varied}=${String(params[varied])})` : '';
    if (!errors.has(field)) errors.set(field, { field, reason: `${e.reason}${context}` });
  };
  for (const seed of spec.seeds) cellConfig(base, typical, seed).errors.forEach((e) => add(e, typical));
  for (const [name, d] of Object.entries(spec.parameters)) {
    for (const value of probes(d)) {
      const params = { ...typical, [name]: value };
      cellConfig(base, params, spec.seeds[0]!).errors.forEach((e) => add(e, params, name));
    }
  }
  return [...errors.values()];
}
