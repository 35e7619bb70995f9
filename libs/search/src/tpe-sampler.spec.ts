import type { ParameterDistribution } from '@fleet/contracts';
import { randomTrialConfig, type TrialConfig } from './random-sampler.js';
import { tpeTrialConfig, type TpeObservation } from './tpe-sampler.js';

const space: Record<string, ParameterDistribution> = {
  lr: { distribution: 'log_uniform', min: 1e-5, max: 1 },
  momentum: { distribution: 'uniform', min: 0, max: 0.99 },
  batchSize: { values: [4, 8, 16, 32] },
  strategy: { values: ['finetune', 'freeze', 'scratch'] },
};

/** Peak at lr = 1e-2, momentum = 0.9, finetune; batch size does not matter. The ranges matter more than the choices (TPE, like Optuna's, picks categories greedily). */
function objective(c: TrialConfig): number {
  const lr = Math.log10(c['lr'] as number) + 2;
  const m = (c['momentum'] as number) - 0.9;
  return -(lr * lr) - 4 * m * m - (c['strategy'] === 'finetune' ? 0 : 0.05);
}

function best(configs: TrialConfig[]): number {
  return Math.max(...configs.map(objective));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
}

describe('tpeTrialConfig', () => {
  it('gives random search its first nStartup trials', () => {
    for (let i = 0; i < 10; i++) expect(tpeTrialConfig(space, [], 'maximize', 7, i)).toEqual(randomTrialConfig(space, 7, i));
  });

  it('gives 4 concurrent trials with no results 4 different configurations, also past the startup', () => {
    const running: TpeObservation[] = [];
    for (let i = 0; i < 4; i++) running.push({ config: tpeTrialConfig(space, running, 'maximize', 7, i), value: null });
    expect(new Set(running.map((r) => JSON.stringify(r.config))).size).toBe(4);

    const finished: TpeObservation[] = Array.from({ length: 12 }, (_, i) => {
      const config = randomTrialConfig(space, 7, i);
      return { config, value: objective(config) };
    });
    const history = [...finished];
    for (let i = 12; i < 16; i++) history.push({ config: tpeTrialConfig(space, history, 'maximize', 7, i), value: null });
    expect(new Set(history.slice(12).map((r) => JSON.stringify(r.config))).size).toBe(4);
  });

  it('is deterministic from search seed, index and history', () => {
    const history: TpeObservation[] = Array.from({ length: 15 }, (_, i) => {
      const config = randomTrialConfig(space, 3, i);
      return { config, value: objective(config) };
    });
    expect(tpeTrialConfig(space, history, 'maximize', 3, 15)).toEqual(tpeTrialConfig(space, history, 'maximize', 3, 15));
  });

  it("beats random search over 10 search seeds: a higher median best, and at least 7 seeds above random's median", () => {
    const trials = 40;
    const tpeBest: number[] = [];
    const randomBest: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      // 4 at a time, as workers would: each batch of suggestions sees the earlier ones as running.
      const history: TpeObservation[] = [];
      for (let i = 0; i < trials; i += 4) {
        for (let j = i; j < i + 4; j++) history.push({ config: tpeTrialConfig(space, history, 'maximize', seed, j), value: null });
        for (let j = i; j < i + 4; j++) history[j]!.value = objective(history[j]!.config);
      }
      tpeBest.push(best(history.map((h) => h.config)));
      randomBest.push(best(Array.from({ length: trials }, (_, i) => randomTrialConfig(space, seed, i))));
    }
    expect(median(tpeBest)).toBeGreaterThan(median(randomBest));
    expect(tpeBest.filter((b) => b > median(randomBest)).length).toBeGreaterThanOrEqual(7);
  });

  it('minimises when asked: the good group is the lowest values', () => {
    const history: TpeObservation[] = Array.from({ length: 30 }, (_, i) => {
      const config = randomTrialConfig(space, 11, i);
      return { config, value: -objective(config) };
    });
    const next = Array.from({ length: 10 }, (_, i) => tpeTrialConfig(space, history, 'minimize', 11, 30 + i));
    const fromRandom = Array.from({ length: 10 }, (_, i) => randomTrialConfig(space, 11, 30 + i));
    expect(median(next.map(objective))).toBeGreaterThan(median(fromRandom.map(objective)));
  });
});
