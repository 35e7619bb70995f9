// Asynchronous successive halving (ASHA, as Ray's AsyncHyperBandScheduler does it) on epochs:
// rungs at minEpochs * rf^k, 1-based epoch numbers (never indices into a log: wandb#1237's
// off-by-one). The first report of a trial at a rung is compared with the values already recorded
// there; it stops when it falls on the wrong side of the (1 - 1/rf) quantile. It stops, never
// pauses, so no worker waits for stragglers. A rung with fewer than minRunsAtRung values stops
// no one (ray#4401: the first configs pass every milestone by design; Optuna's n_startup idea).
// Pure: the caller makes the decision once per (trial, rung), inside a transaction.
import type { AshaOptions, MetricGoal } from '@fleet/contracts';

/** Rung epochs strictly below the run's last epoch (reaching the last epoch is finishing). */
export function ashaRungs(options: Pick<AshaOptions, 'minEpochs' | 'reductionFactor'>, epochs: number): number[] {
  const rungs: number[] = [];
  for (let r = options.minEpochs; r < epochs; r *= options.reductionFactor) rungs.push(r);
  return rungs;
}

/** numpy's default (linear) percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (p / 100) * (sorted.length - 1);
  const lo = sorted[Math.floor(pos)]!;
  const hi = sorted[Math.ceil(pos)]!;
  if (lo === hi) return lo;
  // An infinite end (a diverged run) cannot be interpolated (hi - lo would be NaN): take the nearer one.
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return sorted[Math.round(pos)]!;
  return lo + (hi - lo) * (pos - Math.floor(pos));
}

export type RungOutcome = 'continue' | 'stop';

export interface RungDecision {
  rung: number;
  value: number;
  /** The threshold it was held against; null when the rung had too few values to judge. */
  cutoff: number | null;
  /** How many recorded values (other trials) it was compared with. */
  compared: number;
  decision: RungOutcome;
}

/**
 * Decides one trial at one rung. `recorded` are the values other trials recorded at this rung
 * before it (the trial's own value is recorded by the caller along with the decision).
 */
export function decideAtRung(recorded: readonly number[], value: number, rung: number, options: Pick<AshaOptions, 'reductionFactor' | 'minRunsAtRung'>, goal: MetricGoal): RungDecision {
  if (recorded.length < options.minRunsAtRung) return { rung, value, cutoff: null, compared: recorded.length, decision: 'continue' };
  // A diverged run (NaN loss or accuracy) is the worst value there is, not one that compares false.
  const worst = goal === 'maximize' ? -Infinity : Infinity;
  const clean = (v: number) => (Number.isNaN(v) ? worst : v);
  const keep = 1 / options.reductionFactor;
  const cutoff = percentile(recorded.map(clean), goal === 'maximize' ? (1 - keep) * 100 : keep * 100);
  const worse = goal === 'maximize' ? clean(value) < cutoff : clean(value) > cutoff;
  return { rung, value, cutoff, compared: recorded.length, decision: worse ? 'stop' : 'continue' };
}
