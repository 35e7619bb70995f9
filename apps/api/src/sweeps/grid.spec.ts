import { cellLabel, expandGrid, gridSize } from './grid.js';

describe('grid', () => {
  it('expands the cartesian product, last key fastest', () => {
    const cells = [...expandGrid({ strategy: ['a', 'b'], seed: [0, 1, 2] })];
    expect(cells).toEqual([
      { strategy: 'a', seed: 0 },
      { strategy: 'a', seed: 1 },
      { strategy: 'a', seed: 2 },
      { strategy: 'b', seed: 0 },
      { strategy: 'b', seed: 1 },
      { strategy: 'b', seed: 2 },
    ]);
    expect(gridSize({ strategy: ['a', 'b'], seed: [0, 1, 2] })).toBe(6);
  });

  it('an empty grid is one cell (the base alone); an empty list is none', () => {
    expect([...expandGrid({})]).toEqual([{}]);
    expect(gridSize({})).toBe(1);
    expect([...expandGrid({ a: [1], b: [] })]).toEqual([]);
    expect(gridSize({ a: [1], b: [] })).toBe(0);
  });

  it('sizes a huge grid without expanding it', () => {
    const ten = Array.from({ length: 10 }, (_, i) => i);
    expect(gridSize({ a: ten, b: ten, c: ten, d: ten, e: ten, f: ten })).toBe(1_000_000);
  });

  it('labels a cell', () => {
    expect(cellLabel({ strategy: 'freeze', seed: 2 })).toBe('strategy=freeze seed=2');
    // a parent run's model as the CLI's --weights-from writes it
    expect(cellLabel({ weights: { experiment: 'abc', epoch: 'final' }, seed: 0 })).toBe('weights=abc:final seed=0');
    expect(cellLabel({ weights: { experiment: 'abc' } })).toBe('weights=abc:best');
  });
});
