import { parseSweepSearch, type SweepSearchSpec } from '@fleet/contracts';
import { EXPERIMENT_CONFIG_FIELDS } from '@fleet/queue';
import { randomTrialConfig } from '@fleet/search';
import { checkSearchCells, fillPlan } from './search-plan.js';

const base = { dataset: 'd', strategy: 'scratch', epochs: 3 };

function spec(raw: Record<string, unknown>): SweepSearchSpec {
  const { spec: parsed, errors } = parseSweepSearch({ base, ...raw }, EXPERIMENT_CONFIG_FIELDS);
  if (!parsed) throw new Error(JSON.stringify(errors));
  return parsed;
}

describe('fillPlan', () => {
  it('hands out the grid in expansion order, last parameter fastest', () => {
    const plan = fillPlan(base, spec({ method: 'grid', parameters: { strategy: { values: ['scratch', 'finetune'] }, lr: { values: [0.1, 0.01] } } }));
    expect([0, 1, 2, 3].map((i) => plan.suggest(i, []))).toEqual([
      { strategy: 'scratch', lr: 0.1 },
      { strategy: 'scratch', lr: 0.01 },
      { strategy: 'finetune', lr: 0.1 },
      { strategy: 'finetune', lr: 0.01 },
    ]);
    expect(() => plan.suggest(4, [])).toThrow(RangeError);
  });

  it('gives random search its seeded trials and TPE the same ones before its startup is over', () => {
    const parameters = { lr: { distribution: 'log_uniform', min: 1e-4, max: 0.1 }, momentum: { distribution: 'uniform', min: 0, max: 0.99 } };
    const random = fillPlan(base, spec({ method: 'random', parameters, searchSeed: 4 }));
    const tpe = fillPlan(base, spec({ method: 'tpe', parameters, searchSeed: 4 }));
    const s = spec({ method: 'random', parameters, searchSeed: 4 });
    expect(random.suggest(2, [])).toEqual(randomTrialConfig(s.parameters, 4, 2));
    expect(tpe.suggest(2, [])).toEqual(random.suggest(2, []));
    // Past the startup the history is used: 12 finished trials, the best at small lr.
    const history = Array.from({ length: 12 }, (_, i) => {
      const params = randomTrialConfig(s.parameters, 4, i);
      return { index: i, params, value: -Math.abs(Math.log10(params['lr'] as number) + 3.5) };
    });
    expect(tpe.suggest(12, history)).not.toEqual(random.suggest(12, history));
  });

  it('builds a cell: base + the trial values + the seed, defaults applied', () => {
    const plan = fillPlan(base, spec({ method: 'random', parameters: { lr: { values: [0.05] } } }));
    expect(plan.cellConfig({ lr: 0.05 }, 7)).toMatchObject({ dataset: 'd', strategy: 'scratch', epochs: 3, lr: 0.05, seed: 7, batchSize: 16 });
    expect(() => plan.cellConfig({ lr: 50 }, 0)).toThrow(/lr must not be greater than 10/);
  });
});

describe('checkSearchCells', () => {
  it('names base fields and parameters (with the offending value) that the experiment rules refuse', () => {
    expect(checkSearchCells({ strategy: 'scratch' }, spec({ method: 'random', parameters: { momentum: { distribution: 'uniform', min: 0.5, max: 1 } } }))).toEqual([
      { field: 'base.dataset', reason: expect.stringContaining('dataset') as string },
      { field: 'parameters.momentum', reason: 'momentum must be less than 1 (at momentum=1)' },
    ]);
    expect(checkSearchCells(base, spec({ method: 'tpe', parameters: { strategy: { values: ['scratch', 'freeze'] } } }))).toEqual([
      { field: 'base.weights', reason: 'weights is required by strategy "freeze" (it starts from pretrained weights) (with strategy=freeze)' },
    ]);
  });
});
