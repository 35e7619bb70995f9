import { parseSweepSearch } from './sweep-search.js';

const FIELDS = ['dataset', 'strategy', 'lr', 'momentum', 'batchSize', 'gamma', 'seed', 'epochs'];

const valid = {
  base: { dataset: 'd', epochs: 27 },
  method: 'random',
  parameters: {
    lr: { distribution: 'log_uniform', min: 1e-4, max: 0.1 },
    momentum: { distribution: 'uniform', min: 0.5, max: 0.99 },
    batchSize: { values: [8, 16] },
    strategy: { distribution: 'values', values: ['finetune', 'freeze'] },
    gamma: { distribution: 'q_uniform', min: 0.1, max: 0.9, q: 0.1 },
    epochs: { distribution: 'int_uniform', min: 2, max: 9 },
  },
};

function fields(raw: Record<string, unknown>): string[] {
  return parseSweepSearch(raw, FIELDS).errors.map((e) => e.field);
}

describe('parseSweepSearch', () => {
  it('applies the defaults', () => {
    const { spec, errors } = parseSweepSearch(valid, FIELDS);
    expect(errors).toEqual([]);
    expect(spec).toMatchObject({ method: 'random', seeds: [0], metric: { name: 'valAcc', goal: 'maximize' }, earlyStop: null, budget: { maxTrials: 20, maxConcurrent: 4 }, searchSeed: 0 });
    expect(spec?.parameters['strategy']).toEqual({ values: ['finetune', 'freeze'] });
  });

  it('fills ASHA defaults, defaults a loss metric to minimize, and sizes a grid search by its cells', () => {
    const spec = parseSweepSearch({ ...valid, earlyStop: { type: 'asha' }, metric: { name: 'valLoss' } }, FIELDS).spec;
    expect(spec?.earlyStop).toEqual({ type: 'asha', minEpochs: 1, reductionFactor: 3, minRunsAtRung: 3 });
    expect(spec?.metric).toEqual({ name: 'valLoss', goal: 'minimize' });
    const grid = parseSweepSearch({ base: {}, method: 'grid', parameters: { lr: { values: [0.1, 0.01, 0.001] }, strategy: { values: ['a', 'b'] } } }, FIELDS).spec;
    expect(grid?.budget.maxTrials).toBe(6);
    expect(fields({ base: {}, method: 'grid', parameters: { lr: { values: [0.1, 0.01] } }, budget: { maxTrials: 3 } })).toEqual(['budget.maxTrials']);
  });

  it('names every bad field', () => {
    const bad = {
      base: {},
      method: 'bayes',
      parameters: {
        lr: { distribution: 'log_uniform', min: 0, max: 0.1 },
        momentum: { distribution: 'uniform', min: 0.9, max: 0.5 },
        gamma: { distribution: 'q_uniform', min: 0.1, max: 0.9 },
        batchSize: { values: [] },
        strategy: { distribution: 'normal', mu: 0 },
        epochs: { distribution: 'int_uniform', min: 1.5, max: 9 },
        seed: { values: [1, 2] },
        nope: { values: [1] },
      },
      seeds: [0, 0],
      metric: { name: 'f1', goal: 'up' },
      earlyStop: { type: 'hyperband', reductionFactor: 1, minEpochs: 0, minRunsAtRung: 'x' },
      budget: { maxTrials: 0, maxConcurrent: 1.5, runCap: 3 },
      searchSeed: -1,
      extra: true,
    };
    expect(fields(bad).sort()).toEqual(
      [
        'method',
        'parameters.lr.min',
        'parameters.momentum.max',
        'parameters.gamma.q',
        'parameters.batchSize.values',
        'parameters.strategy.distribution',
        'parameters.epochs.min',
        'parameters.seed',
        'parameters.nope',
        'seeds',
        'metric.name',
        'metric.goal',
        'earlyStop.type',
        'earlyStop.minEpochs',
        'earlyStop.reductionFactor',
        'earlyStop.minRunsAtRung',
        'budget.maxTrials',
        'budget.maxConcurrent',
        'budget.runCap',
        'searchSeed',
        'extra',
      ].sort(),
    );
    expect(parseSweepSearch(bad, FIELDS).spec).toBeNull();
  });

  it('refuses ranges in a grid search, a q with no multiple in range, the grid field beside method', () => {
    expect(fields({ ...valid, method: 'grid' })).toEqual(['parameters.lr.distribution', 'parameters.momentum.distribution', 'parameters.gamma.distribution', 'parameters.epochs.distribution']);
    expect(fields({ ...valid, parameters: { gamma: { distribution: 'q_uniform', min: 0.11, max: 0.19, q: 0.1 } } })).toEqual(['parameters.gamma.q']);
    expect(fields({ ...valid, grid: { lr: [1] } })).toEqual(['grid']);
    expect(fields({ ...valid, parameters: {} })).toEqual(['parameters']);
  });
});
