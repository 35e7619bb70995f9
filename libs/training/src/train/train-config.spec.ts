import { checkMemoryFits, InsufficientMemoryError } from './memory-estimate.js';
import { planFor } from './strategy.js';
import { batchIndices, finalFeatureSide, resolveHyper, TrainConfigError } from './train-run.js';

describe('training configuration rules', () => {
  it('fills TRAIN_DEFAULTS and rejects invalid hyper-parameters naming the field', () => {
    expect(resolveHyper({ strategy: 'freeze' })).toMatchObject({ lr: 0.001, batchSize: 16, epochs: 25, stepSize: 7, gamma: 0.1, momentum: 0.9 });
    expect(() => resolveHyper({ strategy: 'freeze', batchSize: 0 })).toThrow(TrainConfigError);
    expect(() => resolveHyper({ strategy: 'freeze', lr: Number.NaN })).toThrow(/lr must be/);
    expect(() => resolveHyper({ strategy: 'freeze', imageSize: 16 })).toThrow(/imageSize must be at least 32/);
  });

  it('keeps the last partial batch, merging a lone image only when BatchNorm could not take it', () => {
    expect(batchIndices([0, 1, 2, 3, 4], 2, false)).toEqual([[0, 1], [2, 3], [4]]);
    expect(batchIndices([0, 1, 2, 3, 4], 2, true)).toEqual([[0, 1], [2, 3, 4]]);
    expect(batchIndices([0, 1, 2, 3], 2, true)).toEqual([[0, 1], [2, 3]]);
    expect(finalFeatureSide(224)).toBe(7);
    expect(finalFeatureSide(32)).toBe(1);
    expect(finalFeatureSide(64)).toBe(2);
  });

  it('refuses a wasm run that cannot fit the 4 GB heap before training, suggesting a batch that fits', () => {
    const plan = planFor({ strategy: 'finetune', lr: 0.001, lrFactor: 0.1 });
    expect(() => checkMemoryFits('wasm', { strategy: 'finetune', batchSize: 16, imageSize: 224 }, plan)).not.toThrow();
    expect(() => checkMemoryFits('wasm', { strategy: 'finetune', batchSize: 64, imageSize: 224 }, plan)).toThrow(InsufficientMemoryError);
    expect(() => checkMemoryFits('wasm', { strategy: 'finetune', batchSize: 64, imageSize: 224 }, plan)).toThrow(/use batch size 2\d or less/);
    expect(() => checkMemoryFits('tensorflow', { strategy: 'finetune', batchSize: 64, imageSize: 224 }, plan)).not.toThrow();
  });

  it('reports lrs per group as PyTorch would list its param groups', () => {
    expect(planFor({ strategy: 'zero-lr', lr: 0.01, lrFactor: 0.1 }).zeroBackboneGroup).toBe(true);
    expect(planFor({ strategy: 'freeze', lr: 0.01, lrFactor: 0.1 }).backboneGradients).toBe(false);
    expect(planFor({ strategy: 'linear-probe', lr: 0.01, lrFactor: 0.1 }).cachedFeatures).toBe(true);
  });
});
