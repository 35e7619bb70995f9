// The two forms of `weights` (a file name, or a parent run's model) as the API and the worker check them.
import { applyExperimentDefaults, validateExperimentConfig, type ExperimentConfigData } from './experiment-config.js';
import { parseTrainJobData } from './train-job.js';
import { checkRunWeights, describeWeights, parseWeightsFrom, withWeightsDefaults } from './weights-source.js';

const PARENT = '3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e';
const base = { dataset: 'tiny', strategy: 'finetune' as const };
/** The config with defaults and these weights, whatever their shape (the point of the checks below). */
const withWeights = (weights: unknown, strategy: ExperimentConfigData['strategy'] = 'finetune') => applyExperimentDefaults({ ...base, strategy, weights } as Partial<ExperimentConfigData>);

describe('weights: a parent run', () => {
  it('defaults epoch to best and leaves file names alone', () => {
    expect(withWeightsDefaults({ experiment: PARENT })).toEqual({ experiment: PARENT, epoch: 'best' });
    expect(withWeightsDefaults({ experiment: PARENT, epoch: 'final' })).toEqual({ experiment: PARENT, epoch: 'final' });
    expect(withWeightsDefaults('resnet18.pth')).toBe('resnet18.pth');
    const input = { experiment: PARENT };
    expect(withWeights(input).weights).toEqual({ experiment: PARENT, epoch: 'best' });
    expect(input).toEqual({ experiment: PARENT }); // a sweep's base is shared by its cells: never mutated
  });

  it('accepts both forms in a complete config', () => {
    expect(validateExperimentConfig(withWeights({ experiment: PARENT }))).toEqual([]);
    expect(validateExperimentConfig(withWeights({ experiment: PARENT, epoch: 'final' }))).toEqual([]);
    expect(validateExperimentConfig(withWeights('resnet18.pth'))).toEqual([]);
    // scratch ignores its weights, whichever form (a sweep's base may carry them for every strategy)
    expect(validateExperimentConfig(withWeights({ experiment: PARENT }, 'scratch'))).toEqual([]);
  });

  it.each([
    [{ experiment: 'not-a-uuid' }, 'weights.experiment', 'weights.experiment must be an experiment id (a UUID)'],
    [{ experiment: 42 }, 'weights.experiment', 'weights.experiment must be an experiment id (a UUID)'],
    [{ epoch: 'best' }, 'weights.experiment', 'weights.experiment is required: the id of a succeeded run whose model to start from'],
    [{ experiment: PARENT, epoch: 'last' }, 'weights.epoch', 'weights.epoch must be one of best, final'],
    [{ experiment: PARENT, epoch: 3 }, 'weights.epoch', 'weights.epoch must be one of best, final'],
    [{ experiment: PARENT, file: 'x.pth' }, 'weights.file', "weights.file should not exist (a run's weights are {experiment, epoch})"],
  ])('%p -> %s', (weights, field, reason) => {
    expect(validateExperimentConfig(withWeights(weights))).toEqual([{ field, reason }]);
  });

  it('names the field under the prefix it is given (sweep cells)', () => {
    expect(checkRunWeights({ experiment: 'x' }, 'grid.weights')).toEqual([{ field: 'grid.weights.experiment', reason: 'grid.weights.experiment must be an experiment id (a UUID)' }]);
  });

  it('keeps the string form exactly as before', () => {
    expect(validateExperimentConfig(withWeights('../x.pth'))).toEqual([{ field: 'weights', reason: 'weights must be a plain file name (no "/", "\\", NUL, "." or "..")' }]);
    expect(validateExperimentConfig(withWeights(''))).toEqual([{ field: 'weights', reason: 'weights must be longer than or equal to 1 characters' }]);
    expect(validateExperimentConfig(withWeights('a'.repeat(256)))).toEqual([{ field: 'weights', reason: 'weights must be shorter than or equal to 255 characters' }]);
    expect(validateExperimentConfig(withWeights(['a.pth']))).toEqual([{ field: 'weights', reason: "weights must be a file name under WEIGHTS_ROOT or a run's model {experiment, epoch}" }]);
  });

  it('is checked again in job payloads (epoch must be present there)', () => {
    const config = withWeights({ experiment: PARENT });
    expect(parseTrainJobData({ experimentId: PARENT, config }).config.weights).toEqual({ experiment: PARENT, epoch: 'best' });
    expect(() => parseTrainJobData({ experimentId: PARENT, config: { ...config, weights: { experiment: PARENT, epoch: 'worst' } } })).toThrow('config.weights.epoch: weights.epoch must be one of best, final');
  });

  it('describes both forms', () => {
    expect(describeWeights('resnet18.pth')).toBe('resnet18.pth');
    expect(describeWeights({ experiment: PARENT, epoch: 'final' })).toBe(`run ${PARENT} (final)`);
  });
});

describe('--weights-from ID[:best|final]', () => {
  it('parses an id with or without the epoch', () => {
    expect(parseWeightsFrom(PARENT)).toEqual({ experiment: PARENT, epoch: 'best' });
    expect(parseWeightsFrom(`${PARENT}:final`)).toEqual({ experiment: PARENT, epoch: 'final' });
  });

  it.each([['nope', /must be an experiment id/], [`${PARENT}:last`, /must be one of best, final/], [`${PARENT}:best:x`, /must be an experiment id/], ['', /must be an experiment id/]])('refuses %p', (text, message) => {
    expect(() => parseWeightsFrom(text)).toThrow(message);
  });
});
