// Random search: every trial's configuration is a pure function of (searchSeed, trial index), so
// two API replicas, a retry or a restart asking for trial #7 get the same configuration, and
// concurrent trials differ (different index, different stream). Each parameter draws from its own
// stream keyed by its name, so adding a parameter does not change the values of the others.
import { Rng } from '@fleet/training/rng.js';
import { isCategorical, type CategoricalValue, type NumericDistribution, type ParameterDistribution } from '@fleet/contracts';

export type TrialConfig = Record<string, CategoricalValue>;

/** FNV-1a of a string, for keying a stream by parameter name. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The stream of one parameter of one trial. `salt` separates uses (sampling vs TPE candidates). */
export function parameterRng(searchSeed: number, trialIndex: number, name: string, salt = 0): Rng {
  const trial = (Math.imul(searchSeed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(trialIndex + 1, 0x85ebca6b)) >>> 0;
  return new Rng((trial ^ hashName(name) ^ Math.imul(salt + 1, 0xc2b2ae35)) >>> 0);
}

/** Clears float noise of k * q (3 * 0.1 = 0.30000000000000004) so the value prints as written. */
function tidy(v: number): number {
  return Number(v.toPrecision(12));
}

/** The smallest and largest k with k * q inside [min, max]. */
export function quantSteps(d: NumericDistribution & { q: number }): [number, number] {
  return [Math.ceil(d.min / d.q - 1e-9), Math.floor(d.max / d.q + 1e-9)];
}

/** Snaps a value of a numeric distribution's range onto its allowed values (integers, multiples of q). */
export function snap(d: NumericDistribution, x: number): number {
  switch (d.distribution) {
    case 'int_uniform':
      return Math.min(d.max, Math.max(d.min, Math.round(x)));
    case 'q_uniform': {
      const q = d.q ?? 1;
      const [lo, hi] = quantSteps({ ...d, q });
      return tidy(Math.min(hi, Math.max(lo, Math.round(x / q))) * q);
    }
    case 'uniform':
    case 'log_uniform':
      return Math.min(d.max, Math.max(d.min, x));
  }
}

/** One draw from a distribution. */
export function sampleDistribution(d: ParameterDistribution, rng: Rng): CategoricalValue {
  if (isCategorical(d)) return d.values[rng.int(d.values.length)]!;
  switch (d.distribution) {
    case 'uniform':
      return rng.uniform(d.min, d.max);
    case 'log_uniform':
      return Math.exp(rng.uniform(Math.log(d.min), Math.log(d.max)));
    case 'int_uniform':
      return d.min + rng.int(d.max - d.min + 1);
    case 'q_uniform': {
      const q = d.q ?? 1;
      const [lo, hi] = quantSteps({ ...d, q });
      return tidy((lo + rng.int(hi - lo + 1)) * q);
    }
  }
}

/** The configuration of trial `trialIndex` of a random search. */
export function randomTrialConfig(parameters: Record<string, ParameterDistribution>, searchSeed: number, trialIndex: number): TrialConfig {
  const config: TrialConfig = {};
  for (const name of Object.keys(parameters).sort()) config[name] = sampleDistribution(parameters[name]!, parameterRng(searchSeed, trialIndex, name));
  return config;
}
