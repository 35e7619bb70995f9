import { classifyFailure } from './failure-kind.js';

class WeightsError extends Error {
  override name = 'WeightsError';
}

describe('classifyFailure', () => {
  it('fails input problems at once', () => {
    expect(classifyFailure(new WeightsError('w.pth: not a torch file'))).toEqual({ name: 'WeightsError', message: 'w.pth: not a torch file', kind: 'unrecoverable' });
    const missing = Object.assign(new Error("ENOENT: no such file or directory, scandir '/data/tiny/train'"), { code: 'ENOENT' });
    expect(classifyFailure(Object.assign(missing, { message: `dataset ${missing.message}` })).kind).toBe('unrecoverable');
  });

  it('retries everything else', () => {
    expect(classifyFailure(new RangeError('Array buffer allocation failed')).kind).toBe('retryable');
    expect(classifyFailure('boom')).toEqual({ name: 'Error', message: 'boom', kind: 'retryable' });
  });
});
