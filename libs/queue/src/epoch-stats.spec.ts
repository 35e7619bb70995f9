import { EPOCH_SECONDS_BUCKETS, IMAGES_PER_SECOND_BUCKETS, bucketIndex, parseEpochStats } from './epoch-stats.js';

describe('epoch stats', () => {
  it('puts a value in the first bucket whose bound holds it, +Inf past the last', () => {
    expect(bucketIndex([1, 2, 5], 0.2)).toBe(0);
    expect(bucketIndex([1, 2, 5], 1)).toBe(0);
    expect(bucketIndex([1, 2, 5], 1.01)).toBe(1);
    expect(bucketIndex([1, 2, 5], 5)).toBe(2);
    expect(bucketIndex([1, 2, 5], 99)).toBe(3);
  });

  it('parses the hash into cumulative series per histogram, backend and strategy', () => {
    const series = parseEpochStats({
      'duration|wasm|finetune|0': '2',
      'duration|wasm|finetune|3': '1',
      'duration|wasm|finetune|11': '1',
      'duration|wasm|finetune|count': '4',
      'duration|wasm|finetune|sum': '2000.5',
      'images|webgpu|freeze|2': '5',
      'images|webgpu|freeze|count': '5',
      'images|webgpu|freeze|sum': '40',
      'junk': '1',
      'other|wasm|finetune|0': '1',
    });
    expect(series).toHaveLength(2);
    const duration = series.find((s) => s.histogram === 'duration');
    expect(duration).toMatchObject({ backend: 'wasm', strategy: 'finetune', count: 4, sum: 2000.5 });
    expect(duration?.le).toEqual([...EPOCH_SECONDS_BUCKETS, Infinity]);
    expect(duration?.cumulative).toEqual([2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4]);
    const images = series.find((s) => s.histogram === 'images');
    expect(images?.le).toEqual([...IMAGES_PER_SECOND_BUCKETS, Infinity]);
    expect(images?.cumulative.at(-1)).toBe(5);
    expect(images?.cumulative[1]).toBe(0);
    expect(images?.cumulative[2]).toBe(5);
  });
});
