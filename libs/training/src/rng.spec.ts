import { Rng } from './rng.js';

describe('Rng', () => {
  it('reproduces the same stream for the same seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(7);
    a.next();
    const state = a.getState();
    const expected = [a.next(), a.next(), a.int(10)];
    const b = new Rng(999);
    b.setState(state);
    expect([b.next(), b.next(), b.int(10)]).toEqual(expected);
  });

  it('draws uniform values in range with a plausible mean', () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = r.next();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      sum += v;
    }
    expect(sum / 10_000).toBeCloseTo(0.5, 1);
  });

  it('permutes without losing or repeating items', () => {
    const p = new Rng(3).permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
