// `finetune submit --weights-from ID[:best|final]`: the chained-run form of weights, as flags give it.
import { ExitCode } from '../cli-error.js';
import { fieldsFromFlags } from './submit.command.js';

const PARENT = '3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e';

describe('submit --weights-from', () => {
  it('sends weights {experiment, epoch}, best by default', () => {
    expect(fieldsFromFlags({ dataset: 'd', strategy: 'finetune', weightsFrom: PARENT })).toEqual({ dataset: 'd', strategy: 'finetune', weights: { experiment: PARENT, epoch: 'best' } });
    expect(fieldsFromFlags({ weightsFrom: `${PARENT}:final` }).weights).toEqual({ experiment: PARENT, epoch: 'final' });
    expect(fieldsFromFlags({ weights: 'resnet18.pth' }).weights).toBe('resnet18.pth');
  });

  it.each([
    [{ weightsFrom: 'latest' }, '--weights-from must be an experiment id, optionally followed by :best or :final (got "latest")'],
    [{ weightsFrom: `${PARENT}:last` }, '--weights-from: the epoch after ":" must be one of best, final (got "last")'],
    [{ weightsFrom: PARENT, weights: 'resnet18.pth' }, 'give either --weights FILE or --weights-from ID, not both'],
  ])('%p is a usage error', (flags, message) => {
    expect(() => fieldsFromFlags(flags)).toThrow(expect.objectContaining({ message, exitCode: ExitCode.Usage }) as Error);
  });
});
