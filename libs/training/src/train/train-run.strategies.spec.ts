import type { Strategy } from '../contracts.js';
import { DeterministicWeightsCache, FAKE_WEIGHTS, makeTinyDataset, type TinyDataset } from './testing/tiny-run.js';
import { trainRun, type TrainRunResult } from './train-run.js';

const HYPER = { epochs: 2, batchSize: 8, imageSize: 32, lr: 0.01, stepSize: 7, seed: 1 };

describe('trainRun strategies on a tiny two-class dataset', () => {
  let data: TinyDataset;
  const cache = new DeterministicWeightsCache();
  const results = new Map<Strategy, TrainRunResult>();

  beforeAll(async () => {
    data = await makeTinyDataset();
  });
  afterAll(async () => {
    await data.remove();
  });

  async function run(strategy: Strategy, extra: Record<string, number> = {}): Promise<TrainRunResult> {
    const r = await trainRun({ datasetDir: data.dir, weightsPath: FAKE_WEIGHTS, hyper: { ...HYPER, ...extra, strategy }, backend: 'wasm', cache });
    results.set(strategy, r);
    return r;
  }

  it.each<[Strategy, Record<string, number>]>([
    ['scratch', { lr: 0.005, epochs: 3 }],
    ['finetune', { lr: 0.001 }],
    ['freeze', {}],
    ['zero-lr', {}],
    ['group-lr', {}],
    ['linear-probe', { epochs: 5 }],
  ])('%s beats chance', async (strategy, extra) => {
    const r = await run(strategy, extra);
    const last = r.epochs[r.epochs.length - 1]!;
    expect(r.cancelled).toBe(false);
    expect(r.epochs).toHaveLength(extra.epochs ?? HYPER.epochs);
    expect(Number.isFinite(last.trainLoss)).toBe(true);
    if (strategy === 'scratch') {
      // A from-scratch net's eval-mode BatchNorm statistics need far more steps than a unit test
      // affords (val accuracy flips between 0.5 and 1 with the seed, as it would in PyTorch), so
      // scratch is judged on what it learned in train mode.
      expect(last.trainAcc).toBeGreaterThanOrEqual(0.8);
      expect(last.trainLoss).toBeLessThan(r.epochs[0]!.trainLoss);
    } else {
      expect(r.bestValAcc).toBeGreaterThanOrEqual(0.75);
    }
  }, 180_000);

  it('freeze and zero-lr leave the backbone bit-identical but update BN statistics, and agree', () => {
    const freeze = results.get('freeze')!;
    const zero = results.get('zero-lr')!;
    for (const r of [freeze, zero]) {
      expect(r.finalDrift.backbone).toBe(0);
      expect(r.epochs.every((e) => e.backboneDrift === 0 && e.bnStatsDrift > 0)).toBe(true);
    }
    expect(zero.epochs.map((e) => e.lrs)).toEqual(freeze.epochs.map((e) => [0, ...e.lrs]));
    const strip = (r: TrainRunResult) => r.epochs.map(({ trainLoss, trainAcc, valLoss, valAcc, bnStatsDrift }) => ({ trainLoss, trainAcc, valLoss, valAcc, bnStatsDrift }));
    expect(strip(zero)).toEqual(strip(freeze));
  });

  it('group-lr moves the backbone less than the head, and less than finetune does', () => {
    const group = results.get('group-lr')!;
    expect(group.finalDrift.backbone).toBeGreaterThan(0);
    expect(group.finalDrift.backbone).toBeLessThan(group.finalDrift.head);
    expect(group.finalDrift.backbone).toBeLessThan(results.get('finetune')!.finalDrift.backbone);
    expect(group.epochs[0]!.lrs).toEqual([0.01 * 0.1, 0.01]);
  });

  it('linear-probe keeps the backbone and its BN statistics untouched', () => {
    const probe = results.get('linear-probe')!;
    expect(probe.epochs.every((e) => e.backboneDrift === 0 && e.bnStatsDrift === 0)).toBe(true);
    expect(probe.epochs[0]!.trainableParams).toBe(512 * 2 + 2);
  });
});
