// The shared rules (libs/queue) as the API and the worker apply them.
import { applyExperimentDefaults, parseTrainJobData, validateExperimentConfig, InvalidTrainJobError } from '@fleet/queue';

const valid = applyExperimentDefaults({ dataset: 'hymenoptera_data', strategy: 'finetune' as const, weights: 'resnet18.pth' });

describe('ExperimentConfig rules', () => {
  it('accepts the tutorial defaults', () => {
    expect(validateExperimentConfig(valid)).toEqual([]);
    expect(valid).toMatchObject({ epochs: 25, batchSize: 16, lr: 0.001, momentum: 0.9, stepSize: 7, gamma: 0.1, imageSize: 224, seed: 0 });
  });

  it.each([
    [{ lr: 11 }, 'lr', 'lr must not be greater than 10'],
    [{ lr: Number.NaN }, 'lr', 'lr must be a finite number'],
    [{ momentum: 1 }, 'momentum', 'momentum must be less than 1'],
    [{ epochs: 2.5 }, 'epochs', 'epochs must be an integer number'],
    [{ strategy: 'freeze', weights: undefined }, 'weights', 'weights is required by strategy "freeze" (it starts from pretrained weights)'],
    [{ dataset: '..' }, 'dataset', 'dataset must be a plain folder name (no "/", "\\", NUL, "." or "..")'],
    [{ extra: 1 }, 'extra', 'property extra should not exist'],
  ])('%p -> %s', (change, field, reason) => {
    expect(validateExperimentConfig({ ...valid, ...change })).toEqual([{ field, reason }]);
  });

  it('keeps a "__proto__" key as a rejected field instead of changing the prototype', () => {
    const raw = JSON.parse(`{"dataset":"d","strategy":"scratch","__proto__":{"lr":5}}`) as Record<string, unknown>;
    const errors = validateExperimentConfig(applyExperimentDefaults(raw));
    expect(errors.map((e) => e.field)).toContain('__proto__');
  });
});

describe('parseTrainJobData', () => {
  const id = '3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e';

  it('returns a valid payload', () => {
    expect(parseTrainJobData({ experimentId: id, config: valid })).toEqual({ experimentId: id, config: valid });
  });

  it('names every bad field of a bad payload', () => {
    try {
      parseTrainJobData({ experimentId: 'x', config: { ...valid, batchSize: 1 }, more: true });
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidTrainJobError);
      expect((err as InvalidTrainJobError).errors.map((e) => e.field).sort()).toEqual(['config.batchSize', 'experimentId', 'more']);
      expect((err as Error).message).toContain('config.batchSize: batchSize must not be less than 2');
    }
  });

  it('refuses a payload that is missing a field instead of defaulting it', () => {
    const { epochs: _epochs, ...partial } = valid;
    expect(() => parseTrainJobData({ experimentId: id, config: partial })).toThrow(/config.epochs/);
  });
});
