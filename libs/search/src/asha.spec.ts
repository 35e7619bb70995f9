import { ashaRungs, decideAtRung, percentile } from './asha.js';

const asha = { minEpochs: 1, reductionFactor: 3, minRunsAtRung: 3 };

describe('ashaRungs', () => {
  it('puts rungs at minEpochs * rf^k below the last epoch, in 1-based epochs', () => {
    expect(ashaRungs(asha, 27)).toEqual([1, 3, 9]);
    expect(ashaRungs(asha, 28)).toEqual([1, 3, 9, 27]);
    expect(ashaRungs({ minEpochs: 2, reductionFactor: 4 }, 40)).toEqual([2, 8, 32]);
    expect(ashaRungs(asha, 1)).toEqual([]);
  });
});

describe('percentile', () => {
  it('interpolates linearly as numpy does', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 0, 20], 100)).toBe(20);
    expect(percentile([0, 3], (1 - 1 / 3) * 100)).toBeCloseTo(2);
  });
});

describe('decideAtRung', () => {
  it('never stops anyone while the rung has fewer than minRunsAtRung values', () => {
    expect(decideAtRung([0.9, 0.95], 0.1, 1, asha, 'maximize')).toEqual({ rung: 1, value: 0.1, cutoff: null, compared: 2, decision: 'continue' });
  });

  it('stops a value below the (1 - 1/rf) quantile when maximising, keeps one at or above it', () => {
    const d = decideAtRung([0.5, 0.6, 0.7, 0.8], 0.65, 3, asha, 'maximize');
    expect(d.cutoff).toBeCloseTo(0.7);
    expect(d.compared).toBe(4);
    expect(d.decision).toBe('stop');
    expect(decideAtRung([0.5, 0.6, 0.7, 0.8], 0.7, 3, asha, 'maximize').decision).toBe('continue');
  });

  it('counts a diverged (NaN) value as the worst', () => {
    expect(decideAtRung([0.5, 0.6, 0.7], NaN, 1, asha, 'minimize').decision).toBe('stop');
    expect(decideAtRung([NaN, NaN, 0.7], 0.9, 1, asha, 'maximize')).toMatchObject({ cutoff: -Infinity, decision: 'continue' });
    expect(decideAtRung([NaN, 0.6, 0.7], 0.5, 1, asha, 'maximize')).toMatchObject({ cutoff: expect.closeTo(0.6333, 3) as number, decision: 'stop' });
    expect(percentile([-Infinity, -Infinity, 1], 25)).toBe(-Infinity);
  });

  it('mirrors the quantile when minimising (a loss)', () => {
    const d = decideAtRung([0.5, 0.6, 0.7, 0.8], 0.65, 3, asha, 'minimize');
    expect(d.cutoff).toBeCloseTo(0.6);
    expect(d.decision).toBe('stop');
    expect(decideAtRung([0.5, 0.6, 0.7, 0.8], 0.55, 3, asha, 'minimize').decision).toBe('continue');
  });
});
