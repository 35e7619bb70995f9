// Reference values from scipy 1.17 (scipy.special.betainc, scipy.stats.t.cdf, scipy.stats.ttest_ind
// with equal_var=False, scipy.special.gammaln).
import { logGamma, mean, regularizedIncompleteBeta, sampleStd, studentTCdf, welchTTest } from './statistics.js';

describe('statistics', () => {
  it('mean and sample std', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138089935299395, 12);
    expect(Number.isNaN(sampleStd([1]))).toBe(true);
  });

  it.each([
    [0.5, 0.5723649429247],
    [10.3, 13.482036786138359],
    [100.7, 362.3567752034306],
  ])('logGamma(%p)', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 10);
  });

  it.each([
    [0.4, 2, 3, 0.5247999999999999],
    [0.2, 0.5, 0.5, 0.2951672353008665],
    [0.3, 10, 20, 0.3640040810719437],
    [0.9, 2.5, 0.5, 0.48958974456442755],
  ])('I_%p(%p, %p) matches scipy.special.betainc', (x, a, b, expected) => {
    expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(expected, 12);
  });

  it('regularizedIncompleteBeta at the bounds', () => {
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });

  it.each([
    [2.0, 5, 0.9490302605850708],
    [-1.5, 2.5, 0.12391822654314809],
    [0.3, 30, 0.6168769473578236],
    [3.5, 1, 0.9114144672170952],
    [0, 7, 0.5],
  ])('studentTCdf(%p, df=%p) matches scipy.stats.t.cdf', (t, df, expected) => {
    expect(studentTCdf(t, df)).toBeCloseTo(expected, 12);
  });

  it('welchTTest matches scipy.stats.ttest_ind(equal_var=False)', () => {
    const r = welchTTest([0.915, 0.9281, 0.9085, 0.9346, 0.9216], [0.7582, 0.8039, 0.7843]);
    expect(r?.t).toBeCloseTo(9.945482189424709, 10);
    expect(r?.df).toBeCloseTo(2.497852503705644, 10);
    expect(r?.p).toBeCloseTo(0.004516180802204587, 12);
    const s = welchTTest([0.9, 0.92], [0.91, 0.93, 0.89, 0.95]);
    expect(s?.t).toBeCloseTo(-0.6123724356957884, 10);
    expect(s?.df).toBeCloseTo(3.6923076923076876, 10);
    expect(s?.p).toBeCloseTo(0.5759813143995626, 12);
  });

  it('welchTTest is undefined below two values and decided without noise', () => {
    expect(welchTTest([1], [1, 2])).toBeNull();
    expect(welchTTest([0.5, 0.5], [0.5, 0.5])?.p).toBe(1);
    expect(welchTTest([0.6, 0.6], [0.5, 0.5])?.p).toBe(0);
  });
});
