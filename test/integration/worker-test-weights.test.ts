// The e2e suites' generated ResNet18 weights must load through the engine's .pth loader exactly as
// torchvision's would: same keys, order, shapes and dtypes.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadStateDict } from '@fleet/training/weights/index.js';
import { stateKeys } from '@fleet/training/model/resnet18-spec.js';
import { writeRandomResnet18Pth } from '@fleet/training/weights/random-resnet18-pth.js';

describe('generated ResNet18 test weights', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-pth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('load with the torchvision resnet18 keys, shapes and dtypes', async () => {
    const file = await writeRandomResnet18Pth(path.join(dir, 'resnet18.pth'), { numClasses: 10 });
    const dict = await loadStateDict(file);
    const expected = stateKeys(10);
    expect([...dict.keys()]).toEqual(expected.map((k) => k.key));
    for (const k of expected) {
      const t = dict.get(k.key);
      expect(t?.shape).toEqual(k.shape);
      expect(t?.dtype).toBe(k.key.endsWith('num_batches_tracked') ? 'int64' : 'float32');
    }
    const bnVar = dict.get('layer1.0.bn1.running_var')?.data as Float32Array;
    expect(Array.from(bnVar.slice(0, 3))).toEqual([1, 1, 1]);
    const conv = dict.get('conv1.weight')?.data as Float32Array;
    expect(conv.some((v) => v !== 0)).toBe(true);
  });
});
