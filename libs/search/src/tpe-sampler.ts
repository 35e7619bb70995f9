// Tree-structured Parzen Estimator, as Optuna's TPESampler does it (independent per parameter):
// random for the first nStartup trials (the same configurations random search gives), then per
// parameter nCandidates draws from l(x), the density of the best gamma(n) trials, and the one with
// the highest l(x)/g(x) wins, g being the density of the rest. Running trials count as the worst
// results (Optuna's constant_liar), so suggestions made while others run avoid their neighbourhood
// instead of repeating them (wandb#5215). Deterministic from (searchSeed, trial index, history).
import { isCategorical, type CategoricalDistribution, type MetricGoal, type NumericDistribution, type ParameterDistribution } from '@fleet/contracts';
import type { Rng } from '@fleet/training/rng.js';
import { parameterRng, randomTrialConfig, snap, type TrialConfig } from './random-sampler.js';

export interface TpeOptions {
  /** Trials sampled at random before the model is used. Default 10 (Optuna's). */
  nStartup?: number;
  /** Candidates drawn from l(x) per parameter. Default 24 (Optuna's). */
  nCandidates?: number;
}

/** A trial handed out before: its configuration and its result, null while it runs. */
export interface TpeObservation {
  config: TrialConfig;
  value: number | null;
}

/** Size of the "good" group: a quarter of the finished trials, at most 25 (hyperopt's gamma). */
export function goodCount(finished: number): number {
  return Math.min(Math.ceil(0.25 * finished), 25);
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough to normalise truncated kernels. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** A mixture of Gaussians truncated to [lo, hi]: the prior (centre, width of the range) + one kernel per point. */
class Parzen {
  private readonly mus: number[];
  private readonly sigmas: number[];
  private readonly masses: number[];

  constructor(
    points: readonly number[],
    private readonly lo: number,
    private readonly hi: number,
  ) {
    const range = hi - lo;
    const mus = [...points, (lo + hi) / 2];
    const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]!);
    const sigmas = new Array<number>(mus.length);
    const minSigma = range / Math.min(100, 1 + mus.length);
    // Optuna's "magic clip": a kernel is as wide as the larger gap to its neighbours (the bounds
    // at the ends), clipped to [range / min(100, n + 1), range]; the prior spans the range.
    order.forEach((idx, rank) => {
      const left = rank === 0 ? lo : mus[order[rank - 1]!]!;
      const right = rank === order.length - 1 ? hi : mus[order[rank + 1]!]!;
      const gap = Math.max(mus[idx]! - left, right - mus[idx]!);
      sigmas[idx] = Math.min(range, Math.max(minSigma, gap));
    });
    sigmas[mus.length - 1] = range;
    this.mus = mus;
    this.sigmas = sigmas;
    this.masses = mus.map((mu, i) => Math.max(1e-12, normalCdf((hi - mu) / sigmas[i]!) - normalCdf((lo - mu) / sigmas[i]!)));
  }

  sample(rng: Rng): number {
    const k = rng.int(this.mus.length);
    for (let tries = 0; tries < 100; tries++) {
      // Box-Muller; 1 - next() keeps the log's argument in (0, 1].
      const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      const x = this.mus[k]! + this.sigmas[k]! * z;
      if (x >= this.lo && x <= this.hi) return x;
    }
    return Math.min(this.hi, Math.max(this.lo, this.mus[k]!));
  }

  logDensity(x: number): number {
    let p = 0;
    for (let i = 0; i < this.mus.length; i++) {
      const z = (x - this.mus[i]!) / this.sigmas[i]!;
      p += Math.exp(-0.5 * z * z) / (this.sigmas[i]! * Math.sqrt(2 * Math.PI) * this.masses[i]!);
    }
    return Math.log(p / this.mus.length + 1e-300);
  }
}

function toSpace(d: NumericDistribution, x: number): number {
  return d.distribution === 'log_uniform' ? Math.log(x) : x;
}

function fromSpace(d: NumericDistribution, t: number): number {
  return d.distribution === 'log_uniform' ? Math.exp(t) : t;
}

function suggestNumeric(d: NumericDistribution, good: number[], bad: number[], rng: Rng, nCandidates: number): number {
  // Integer and quantised ranges reach half a step past their ends, so the end values are as likely as the rest.
  const half = d.distribution === 'int_uniform' ? 0.5 : d.distribution === 'q_uniform' ? (d.q ?? 1) / 2 : 0;
  const lo = toSpace(d, d.min) - half;
  const hi = toSpace(d, d.max) + half;
  const l = new Parzen(good.map((v) => toSpace(d, v)), lo, hi);
  const g = new Parzen(bad.map((v) => toSpace(d, v)), lo, hi);
  let best = NaN;
  let bestScore = -Infinity;
  for (let i = 0; i < nCandidates; i++) {
    const t = l.sample(rng);
    const score = l.logDensity(t) - g.logDensity(t);
    if (score > bestScore) [best, bestScore] = [t, score];
  }
  return snap(d, fromSpace(d, best));
}

function suggestCategorical(d: CategoricalDistribution, good: unknown[], bad: unknown[], rng: Rng, nCandidates: number): CategoricalDistribution['values'][number] {
  // Counts plus one per value (Laplace), so an unseen value keeps a chance.
  const weights = (obs: unknown[]) => d.values.map((v) => 1 + obs.filter((o) => o === v).length);
  const lw = weights(good);
  const gw = weights(bad);
  const lSum = lw.reduce((a, b) => a + b, 0);
  const gSum = gw.reduce((a, b) => a + b, 0);
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < nCandidates; i++) {
    let u = rng.next() * lSum;
    let k = 0;
    while (k < lw.length - 1 && u >= lw[k]!) u -= lw[k++]!;
    const score = Math.log(lw[k]! / lSum) - Math.log(gw[k]! / gSum);
    if (score > bestScore) [best, bestScore] = [k, score];
  }
  return d.values[best]!;
}

/**
 * The configuration of trial `trialIndex`, given every trial handed out before it (in index
 * order). Observations whose config lacks a parameter are ignored for that parameter.
 */
export function tpeTrialConfig(parameters: Record<string, ParameterDistribution>, history: readonly TpeObservation[], goal: MetricGoal, searchSeed: number, trialIndex: number, options: TpeOptions = {}): TrialConfig {
  const nStartup = options.nStartup ?? 10;
  const nCandidates = options.nCandidates ?? 24;
  if (trialIndex < nStartup) return randomTrialConfig(parameters, searchSeed, trialIndex);
  const sign = goal === 'maximize' ? 1 : -1;
  const finished = history.filter((h) => h.value !== null).length;
  // Best first; running trials (the liars) last, in their hand-out order (a stable sort).
  const score = (o: TpeObservation): number => (o.value === null ? -Infinity : sign * o.value);
  const ranked = [...history].sort((a, b) => (score(a) === score(b) ? 0 : score(b) - score(a)));
  const nGood = goodCount(finished);
  const good = ranked.slice(0, nGood);
  const bad = ranked.slice(nGood);
  const config: TrialConfig = {};
  for (const name of Object.keys(parameters).sort()) {
    const d = parameters[name]!;
    const rng = parameterRng(searchSeed, trialIndex, name, 1);
    const values = (obs: TpeObservation[]) => obs.map((o) => o.config[name]).filter((v) => v !== undefined);
    config[name] = isCategorical(d) ? suggestCategorical(d, values(good), values(bad), rng, nCandidates) : suggestNumeric(d, values(good).filter((v): v is number => typeof v === 'number'), values(bad).filter((v): v is number => typeof v === 'number'), rng, nCandidates);
  }
  return config;
}
