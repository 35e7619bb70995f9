import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectWeights, loadStateDict, StateTensor } from './index.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/pth');
interface Expected {
  shape: number[];
  dtype: string;
  values: (number | string)[];
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'small-expected.json'), 'utf8')) as Record<string, Expected>;

function values(t: StateTensor): (number | string)[] {
  return t.data instanceof BigInt64Array || t.data instanceof Int32Array || t.data instanceof Uint8Array
    ? Array.from(t.data as ArrayLike<number | bigint>, (v) => String(v))
    : Array.from(t.data);
}

describe.each(['legacy', 'zip'] as const)('loadStateDict (%s format)', (format) => {
  const file = join(FIXTURES, `small-${format}.pth`);

  it('loads every tensor with the shape, dtype and values torch saved', async () => {
    const sd = await loadStateDict(file);
    expect([...sd.keys()]).toEqual(Object.keys(expected));
    for (const [key, want] of Object.entries(expected)) {
      const t = sd.get(key)!;
      expect({ key, shape: t.shape, dtype: t.dtype }).toEqual({ key, shape: want.shape, dtype: want.dtype });
      // JSON floats are the float32 values printed as doubles: exact after fround.
      const got = values(t);
      expect(got).toEqual(want.values.map((v) => (typeof v === 'number' ? Math.fround(v) : v)));
    }
  });

  it('converts floating dtypes to Float32Array and keeps int64 exact', async () => {
    const sd = await loadStateDict(file);
    expect(sd.get('fc.bias')!.data).toBeInstanceOf(Float32Array);
    expect(sd.get('half')!.data).toBeInstanceOf(Float32Array);
    expect(sd.get('bn1.num_batches_tracked')!.data).toEqual(new BigInt64Array([123456789012n]));
    expect(sd.get('bn1.num_batches_tracked')!.shape).toEqual([]);
  });

  it('inspects format, keys, shapes and dtypes', async () => {
    const info = await inspectWeights(file);
    expect(info.format).toBe(format);
    expect(info.entries.find((e) => e.key === 'view.transposed')).toEqual({ key: 'view.transposed', shape: [6, 4], dtype: 'float32' });
  });
});

it('both formats load to identical tensors', async () => {
  const a = await loadStateDict(join(FIXTURES, 'small-legacy.pth'));
  const b = await loadStateDict(join(FIXTURES, 'small-zip.pth'));
  expect(b).toEqual(a);
});

it('accepts a state dict nested under "state_dict"', async () => {
  const sd = await loadStateDict(join(FIXTURES, 'nested-zip.pth'));
  expect([...sd.keys()]).toEqual(['w']);
  expect(sd.get('w')!.data).toEqual(new Float32Array([1, 1]));
});

it('loads the tar format of torch <= 0.3 (Python 2 OrderedDict, storage views) to the same tensors', async () => {
  const tar = await loadStateDict(join(FIXTURES, 'small-tar.pth'));
  const legacy = await loadStateDict(join(FIXTURES, 'small-legacy.pth'));
  expect((await inspectWeights(join(FIXTURES, 'small-tar.pth'))).format).toBe('legacy');
  const expectedKeys = [...legacy.keys()].filter((k) => k !== 'bf16');
  expect([...tar.keys()]).toEqual([...expectedKeys, 'view.storage_slice']);
  for (const k of expectedKeys) expect({ k, t: tar.get(k) }).toEqual({ k, t: legacy.get(k) });
  const base = legacy.get('view.base')!.data as Float32Array;
  expect(tar.get('view.storage_slice')).toEqual({ shape: [3, 4], dtype: 'float32', data: base.slice(6, 18) });
});

it('loads torch 0.2/0.3 files that rebuild tensors with _rebuild_tensor (v1)', async () => {
  const v1 = await loadStateDict(join(FIXTURES, 'rebuild-v1-legacy.pth'));
  const legacy = await loadStateDict(join(FIXTURES, 'small-legacy.pth'));
  expect(v1.get('w')).toEqual(legacy.get('conv1.weight'));
  expect(v1.get('t')).toEqual(legacy.get('view.transposed'));
  expect(v1.get('n')).toEqual(legacy.get('bn1.num_batches_tracked'));
});
