// The wire contract of a searched sweep (POST /api/sweeps with `method`): the shapes the API
// accepts and the CLI sends, their defaults, and the rules, in one place so API, CLI and dashboard
// cannot drift. Pure data and checks: no Nest, no Prisma, no I/O. The rules of each trial's
// experiment fields (lr range, strategies...) stay in @fleet/queue's ExperimentConfig; this module
// checks the search itself.
import type { FieldError } from '@fleet/queue';

export const SEARCH_METHODS = ['grid', 'random', 'tpe'] as const;
export type SearchMethod = (typeof SEARCH_METHODS)[number];

export const NUMERIC_DISTRIBUTIONS = ['uniform', 'log_uniform', 'int_uniform', 'q_uniform'] as const;
export type NumericDistributionName = (typeof NUMERIC_DISTRIBUTIONS)[number];

/** A continuous or integer range; `q` only (and required) for q_uniform. */
export interface NumericDistribution {
  distribution: NumericDistributionName;
  min: number;
  max: number;
  q?: number;
}

export type CategoricalValue = string | number | boolean;

/** A categorical choice; `distribution: 'values'` may be written or left out. */
export interface CategoricalDistribution {
  distribution?: 'values';
  values: CategoricalValue[];
}

export type ParameterDistribution = NumericDistribution | CategoricalDistribution;

export function isCategorical(d: ParameterDistribution): d is CategoricalDistribution {
  return 'values' in d;
}

/** Per-epoch metrics a sweep can optimise (fields of EpochMetrics). */
export const SWEEP_METRICS = ['valAcc', 'valLoss', 'trainAcc', 'trainLoss'] as const;
export type SweepMetricName = (typeof SWEEP_METRICS)[number];
export type MetricGoal = 'maximize' | 'minimize';

export interface SweepMetric {
  name: SweepMetricName;
  goal: MetricGoal;
}

/** Asynchronous successive halving on epochs (1-based epoch numbers). */
export interface AshaOptions {
  type: 'asha';
  /** First rung, in epochs. Default 1. */
  minEpochs: number;
  /** Rungs at minEpochs * reductionFactor^k; a trial below the (1 - 1/rf) quantile stops. Default 3. */
  reductionFactor: number;
  /** A rung with fewer recorded trials than this never stops anyone. Default 3. */
  minRunsAtRung: number;
}

export interface SweepBudget {
  /** Trials (configurations) in all; each runs once per seed. Default: grid size for grid, 20 otherwise. */
  maxTrials: number;
  /** Cells (trial x seed) queued or running at once. Default 4. */
  maxConcurrent: number;
}

/** The body of a searched sweep as the client writes it (optional fields may be left out). */
export interface SweepSearchRequest {
  name?: string;
  base: Record<string, unknown>;
  method: SearchMethod;
  parameters: Record<string, ParameterDistribution>;
  seeds?: number[];
  metric?: Partial<SweepMetric>;
  earlyStop?: Partial<AshaOptions> | null;
  budget?: Partial<SweepBudget>;
  searchSeed?: number;
  priority?: number;
}

/** The same, every default applied: what the API stores and schedules from. */
export interface SweepSearchSpec {
  method: SearchMethod;
  parameters: Record<string, ParameterDistribution>;
  seeds: number[];
  metric: SweepMetric;
  earlyStop: AshaOptions | null;
  budget: SweepBudget;
  searchSeed: number;
}

export const SEARCH_DEFAULTS = {
  seeds: [0],
  metric: { name: 'valAcc', goal: 'maximize' },
  asha: { minEpochs: 1, reductionFactor: 3, minRunsAtRung: 3 },
  maxTrials: 20,
  maxConcurrent: 4,
  searchSeed: 0,
} as const;

/** Caps that keep one request from asking for an unbounded amount of work or memory. */
export const SEARCH_LIMITS = { maxTrials: 1000, maxConcurrent: 256, seeds: 50, values: 1000 } as const;

/** What a stopped run carries: the rung that stopped it and what it was compared with. */
export interface StopReason {
  rung: number;
  value: number;
  cutoff: number;
  compared: number;
}

const KNOWN_FIELDS = new Set(['name', 'base', 'method', 'parameters', 'seeds', 'metric', 'earlyStop', 'budget', 'searchSeed', 'priority', 'grid']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkInt(errors: FieldError[], field: string, v: unknown, min: number, max: number): number | undefined {
  if (!Number.isInteger(v)) {
    errors.push({ field, reason: `${field} must be an integer` });
    return undefined;
  }
  const n = v as number;
  if (n < min || n > max) {
    errors.push({ field, reason: `${field} must be between ${min} and ${max}` });
    return undefined;
  }
  return n;
}

function checkNumeric(errors: FieldError[], field: string, d: Record<string, unknown>): NumericDistribution | undefined {
  const name = d['distribution'] as NumericDistributionName;
  const before = errors.length;
  for (const key of Object.keys(d)) {
    if (!['distribution', 'min', 'max', 'q'].includes(key)) errors.push({ field: `${field}.${key}`, reason: `${field}.${key} is not a field of a ${name} distribution (distribution, min, max${name === 'q_uniform' ? ', q' : ''})` });
  }
  const { min, max, q } = d;
  if (!isFiniteNumber(min)) errors.push({ field: `${field}.min`, reason: `${field}.min must be a finite number` });
  if (!isFiniteNumber(max)) errors.push({ field: `${field}.max`, reason: `${field}.max must be a finite number` });
  if (isFiniteNumber(min) && isFiniteNumber(max)) {
    if (!(min < max)) errors.push({ field: `${field}.max`, reason: `${field}.max must be greater than min (${min})` });
    if (name === 'log_uniform' && !(min > 0)) errors.push({ field: `${field}.min`, reason: `${field}.min must be > 0 for log_uniform (the log of the range is sampled)` });
    if (name === 'int_uniform' && (!Number.isInteger(min) || !Number.isInteger(max))) errors.push({ field: `${field}.min`, reason: `${field}.min and max must be integers for int_uniform` });
  }
  if (name === 'q_uniform') {
    if (!isFiniteNumber(q) || !(q > 0)) errors.push({ field: `${field}.q`, reason: `${field}.q must be a number > 0 (values are multiples of q)` });
    else if (isFiniteNumber(min) && isFiniteNumber(max) && Math.ceil(min / q - 1e-9) > Math.floor(max / q + 1e-9)) {
      errors.push({ field: `${field}.q`, reason: `${field}: no multiple of q=${q} lies in [${min}, ${max}]` });
    }
  }
  if (errors.length > before) return undefined;
  return name === 'q_uniform' ? { distribution: name, min: min as number, max: max as number, q: q as number } : { distribution: name, min: min as number, max: max as number };
}

function checkDistribution(errors: FieldError[], field: string, raw: unknown): ParameterDistribution | undefined {
  if (!isRecord(raw)) {
    errors.push({ field, reason: `${field} must be an object: {distribution, min, max} or {values: [...]}` });
    return undefined;
  }
  const kind = raw['distribution'];
  if ('values' in raw || kind === 'values') {
    if (kind !== undefined && kind !== 'values') {
      errors.push({ field: `${field}.distribution`, reason: `${field}: values is a categorical choice; leave distribution out or set it to "values"` });
      return undefined;
    }
    const extra = Object.keys(raw).filter((k) => k !== 'values' && k !== 'distribution');
    if (extra.length > 0) errors.push({ field: `${field}.${extra[0]!}`, reason: `${field}.${extra[0]!} is not a field of a categorical choice (values)` });
    const values = raw['values'];
    if (!Array.isArray(values) || values.length === 0) {
      errors.push({ field: `${field}.values`, reason: `${field}.values must be a non-empty array` });
      return undefined;
    }
    if (values.length > SEARCH_LIMITS.values) errors.push({ field: `${field}.values`, reason: `${field}.values must have at most ${SEARCH_LIMITS.values} entries` });
    values.forEach((v: unknown, i) => {
      if (typeof v !== 'string' && typeof v !== 'boolean' && !isFiniteNumber(v)) errors.push({ field: `${field}.values`, reason: `${field}.values[${i}] must be a string, a finite number or a boolean` });
    });
    if (new Set(values).size !== values.length) errors.push({ field: `${field}.values`, reason: `${field}.values must not repeat a value` });
    return extra.length > 0 ? undefined : { values: values as CategoricalValue[] };
  }
  if (typeof kind !== 'string' || !(NUMERIC_DISTRIBUTIONS as readonly string[]).includes(kind)) {
    errors.push({ field: `${field}.distribution`, reason: `${field}.distribution must be one of: ${NUMERIC_DISTRIBUTIONS.join(', ')}, values` });
    return undefined;
  }
  return checkNumeric(errors, field, raw);
}

export interface ParsedSearch {
  spec: SweepSearchSpec | null;
  errors: FieldError[];
}

/**
 * Checks a searched-sweep body and applies the defaults. `fieldNames` are the experiment fields a
 * parameter may name. Every problem is reported, each naming its field; spec is null when any.
 * A grid search's maxTrials defaults to its number of cells.
 */
export function parseSweepSearch(raw: Record<string, unknown>, fieldNames: readonly string[]): ParsedSearch {
  const errors: FieldError[] = [];
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) errors.push({ field: key, reason: `${key} is not a sweep field` });
  }
  if (raw['grid'] !== undefined) errors.push({ field: 'grid', reason: 'grid is the cartesian form; with method, name the values under parameters' });
  const method = raw['method'];
  if (typeof method !== 'string' || !(SEARCH_METHODS as readonly string[]).includes(method)) {
    errors.push({ field: 'method', reason: `method must be one of: ${SEARCH_METHODS.join(', ')}` });
  }

  const parameters: Record<string, ParameterDistribution> = {};
  const rawParams = raw['parameters'];
  if (!isRecord(rawParams) || Object.keys(rawParams).length === 0) {
    errors.push({ field: 'parameters', reason: 'parameters must be an object naming at least one experiment field' });
  } else {
    for (const [key, value] of Object.entries(rawParams)) {
      const field = `parameters.${key}`;
      if (!fieldNames.includes(key)) {
        errors.push({ field, reason: `${field} is not an experiment field (one of: ${fieldNames.join(', ')})` });
        continue;
      }
      if (key === 'seed') {
        errors.push({ field, reason: `${field}: seeds are listed under seeds (each trial runs once per seed), not searched` });
        continue;
      }
      const d = checkDistribution(errors, field, value);
      if (d) {
        if (method === 'grid' && !isCategorical(d)) errors.push({ field: `${field}.distribution`, reason: `${field}: a grid search takes only {values: [...]} (a ${d.distribution} range has no cells)` });
        parameters[key] = d;
      }
    }
  }

  let seeds: number[] = [...SEARCH_DEFAULTS.seeds];
  if (raw['seeds'] !== undefined) {
    const s = raw['seeds'];
    if (!Array.isArray(s) || s.length === 0 || s.length > SEARCH_LIMITS.seeds) errors.push({ field: 'seeds', reason: `seeds must be a non-empty array of at most ${SEARCH_LIMITS.seeds} integers` });
    else {
      s.forEach((v: unknown, i) => checkInt(errors, `seeds[${i}]`, v, 0, 2 ** 31 - 1));
      if (new Set(s).size !== s.length) errors.push({ field: 'seeds', reason: 'seeds must not repeat a seed' });
      seeds = s as number[];
    }
  }

  const metric: SweepMetric = { ...SEARCH_DEFAULTS.metric };
  if (raw['metric'] !== undefined) {
    const m = raw['metric'];
    if (!isRecord(m)) errors.push({ field: 'metric', reason: 'metric must be an object {name, goal}' });
    else {
      for (const key of Object.keys(m)) if (key !== 'name' && key !== 'goal') errors.push({ field: `metric.${key}`, reason: `metric.${key} is not a field of metric (name, goal)` });
      if (m['name'] !== undefined) {
        if ((SWEEP_METRICS as readonly unknown[]).includes(m['name'])) metric.name = m['name'] as SweepMetricName;
        else errors.push({ field: 'metric.name', reason: `metric.name must be one of: ${SWEEP_METRICS.join(', ')}` });
      }
      if (m['goal'] !== undefined) {
        if (m['goal'] === 'maximize' || m['goal'] === 'minimize') metric.goal = m['goal'];
        else errors.push({ field: 'metric.goal', reason: 'metric.goal must be maximize or minimize' });
      } else if (metric.name === 'valLoss' || metric.name === 'trainLoss') metric.goal = 'minimize';
    }
  }

  let earlyStop: AshaOptions | null = null;
  const es = raw['earlyStop'];
  if (es !== undefined && es !== null) {
    if (!isRecord(es)) errors.push({ field: 'earlyStop', reason: 'earlyStop must be an object {type: asha, minEpochs, reductionFactor, minRunsAtRung} or null' });
    else {
      for (const key of Object.keys(es)) if (!['type', 'minEpochs', 'reductionFactor', 'minRunsAtRung'].includes(key)) errors.push({ field: `earlyStop.${key}`, reason: `earlyStop.${key} is not a field of earlyStop (type, minEpochs, reductionFactor, minRunsAtRung)` });
      if (es['type'] !== 'asha') errors.push({ field: 'earlyStop.type', reason: 'earlyStop.type must be asha' });
      const d = SEARCH_DEFAULTS.asha;
      const minEpochs = es['minEpochs'] === undefined ? d.minEpochs : checkInt(errors, 'earlyStop.minEpochs', es['minEpochs'], 1, 1000);
      const reductionFactor = es['reductionFactor'] === undefined ? d.reductionFactor : checkInt(errors, 'earlyStop.reductionFactor', es['reductionFactor'], 2, 100);
      const minRunsAtRung = es['minRunsAtRung'] === undefined ? d.minRunsAtRung : checkInt(errors, 'earlyStop.minRunsAtRung', es['minRunsAtRung'], 1, 1000);
      if (minEpochs !== undefined && reductionFactor !== undefined && minRunsAtRung !== undefined) earlyStop = { type: 'asha', minEpochs, reductionFactor, minRunsAtRung };
    }
  }

  const budget: SweepBudget = { maxTrials: SEARCH_DEFAULTS.maxTrials, maxConcurrent: SEARCH_DEFAULTS.maxConcurrent };
  const b = raw['budget'];
  if (b !== undefined) {
    if (!isRecord(b)) errors.push({ field: 'budget', reason: 'budget must be an object {maxTrials, maxConcurrent}' });
    else {
      for (const key of Object.keys(b)) if (key !== 'maxTrials' && key !== 'maxConcurrent') errors.push({ field: `budget.${key}`, reason: `budget.${key} is not a field of budget (maxTrials, maxConcurrent)` });
      if (b['maxTrials'] !== undefined) budget.maxTrials = checkInt(errors, 'budget.maxTrials', b['maxTrials'], 1, SEARCH_LIMITS.maxTrials) ?? budget.maxTrials;
      if (b['maxConcurrent'] !== undefined) budget.maxConcurrent = checkInt(errors, 'budget.maxConcurrent', b['maxConcurrent'], 1, SEARCH_LIMITS.maxConcurrent) ?? budget.maxConcurrent;
    }
  }
  if (method === 'grid') {
    const cells = Object.values(parameters).reduce((n, d) => n * (isCategorical(d) ? d.values.length : 1), 1);
    if (!isRecord(b) || b['maxTrials'] === undefined) {
      budget.maxTrials = cells;
      if (cells > SEARCH_LIMITS.maxTrials) errors.push({ field: 'parameters', reason: `the grid has ${cells} trials, more than ${SEARCH_LIMITS.maxTrials}` });
    } else if (budget.maxTrials > cells) errors.push({ field: 'budget.maxTrials', reason: `budget.maxTrials must be at most the grid's ${cells} cells` });
  }

  let searchSeed: number = SEARCH_DEFAULTS.searchSeed;
  if (raw['searchSeed'] !== undefined) searchSeed = checkInt(errors, 'searchSeed', raw['searchSeed'], 0, 2 ** 31 - 1) ?? searchSeed;

  if (errors.length > 0) return { spec: null, errors };
  return { spec: { method: method as SearchMethod, parameters, seeds, metric, earlyStop, budget, searchSeed }, errors };
}
