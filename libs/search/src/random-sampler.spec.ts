import type { ParameterDistribution } from '@fleet/contracts';
import { randomTrialConfig } from './random-sampler.js';

const space: Record<string, ParameterDistribution> = {
  lr: { distribution: 'log_uniform', min: 1e-4, max: 1e-1 },
  momentum: { distribution: 'uniform', min: 0.5, max: 0.99 },
  batchSize: { distribution: 'int_uniform', min: 4, max: 32 },
  gamma: { distribution: 'q_uniform', min: 0.05, max: 0.95, q: 0.05 },
  strategy: { values: ['finetune', 'freeze', 'scratch'] },
};

describe('randomTrialConfig', () => {
  const trials = Array.from({ length: 2000 }, (_, i) => randomTrialConfig(space, 42, i));

  it('gives the same trials for the same search seed, other trials for another', () => {
    expect(Array.from({ length: 50 }, (_, i) => randomTrialConfig(space, 42, i))).toEqual(trials.slice(0, 50));
    expect(randomTrialConfig(space, 43, 0)).not.toEqual(trials[0]);
    expect(new Set(trials.map((t) => t['lr'])).size).toBe(trials.length);
  });

  it('keeps a parameter its values when another parameter is added', () => {
    const wider = { ...space, weightDecay: { distribution: 'uniform', min: 0, max: 0.01 } } satisfies Record<string, ParameterDistribution>;
    expect(randomTrialConfig(wider, 42, 3)['lr']).toBe(trials[3]!['lr']);
  });

  it('stays within bounds, with integers for int_uniform and multiples of q for q_uniform', () => {
    for (const t of trials) {
      expect(t['lr']).toBeGreaterThanOrEqual(1e-4);
      expect(t['lr']).toBeLessThanOrEqual(1e-1);
      expect(t['momentum']).toBeGreaterThanOrEqual(0.5);
      expect(t['momentum']).toBeLessThan(0.99);
      expect(Number.isInteger(t['batchSize'])).toBe(true);
      expect(t['batchSize']).toBeGreaterThanOrEqual(4);
      expect(t['batchSize']).toBeLessThanOrEqual(32);
      const g = t['gamma'] as number;
      expect(g).toBeGreaterThanOrEqual(0.05);
      expect(g).toBeLessThanOrEqual(0.95);
      expect(Math.abs(g / 0.05 - Math.round(g / 0.05))).toBeLessThan(1e-9);
      expect(['finetune', 'freeze', 'scratch']).toContain(t['strategy']);
    }
    // Both ends of the integer and quantised ranges come up.
    expect(new Set(trials.map((t) => t['batchSize']))).toEqual(new Set(Array.from({ length: 29 }, (_, i) => 4 + i)));
    expect(new Set(trials.map((t) => t['gamma'])).size).toBe(19);
  });

  it('samples log_uniform evenly in log space: its median is near sqrt(min * max)', () => {
    const lrs = trials.map((t) => t['lr'] as number).sort((a, b) => a - b);
    const median = lrs[lrs.length / 2]!;
    const expected = Math.sqrt(1e-4 * 1e-1);
    expect(Math.abs(Math.log10(median / expected))).toBeLessThan(0.1);
    // Each decade holds about a third of the samples (a linear draw would put 90% in the top one).
    expect(lrs.filter((v) => v < 1e-3).length / lrs.length).toBeCloseTo(1 / 3, 1);
  });

  it('picks every categorical value about equally often', () => {
    for (const s of ['finetune', 'freeze', 'scratch']) expect(trials.filter((t) => t['strategy'] === s).length / trials.length).toBeCloseTo(1 / 3, 1);
  });
});
