// Parity with torchvision: fixtures from scripts/parity/make-parity-fixtures.py (torch 1.13,
// torchvision 0.14) on weights and images both sides derive from the same integer hash.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stateDictMismatches, type FixtureTensor } from './parity-fixture.js';
import { initBackend } from '../backend/init-backend.js';
import { tf } from '../backend/tf.js';
import { Sgd } from '../optim/sgd.js';
import { trainStep } from '../train/train-step.js';
import { deterministicImagesNhwc, deterministicStateDict, deterministicTensor, PARITY_HEAD_SEED } from './deterministic-state-dict.js';
import { stateKeys } from './resnet18-spec.js';
import { exportStateDict, modelFromStateDict } from './state-dict-mapping.js';

const FIXTURES = path.join(process.cwd(), 'test/fixtures/parity');

interface EvalFixture {
  keys: [string, number[]][];
  batch: number;
  imageSize: number;
  logits: number[];
}
interface TrainFixture {
  numClasses: number;
  batch: number;
  imageSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  labels: number[];
  losses: number[];
  after: Record<string, FixtureTensor>;
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

describe('ResNet18 parity with torchvision', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('uses torchvision resnet18 state_dict keys, order and shapes', () => {
    const f = fixture<EvalFixture>('resnet18-eval.json');
    expect(stateKeys().map((k) => [k.key, k.shape])).toEqual(f.keys);
  });

  it('eval logits match torch within 1e-4', async () => {
    const f = fixture<EvalFixture>('resnet18-eval.json');
    const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
    const x = tf.tensor4d(deterministicImagesNhwc(0, f.batch, f.imageSize), [f.batch, f.imageSize, f.imageSize, 3]);
    const logits = model.forward(x, 'eval');
    const got = await logits.data();
    let maxErr = 0;
    f.logits.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(got[i]! - v))));
    expect(got.length).toBe(f.logits.length);
    expect(maxErr).toBeLessThan(1e-4);
    tf.dispose([x, logits]);
    model.dispose();
  });

  it('two train-mode SGD-momentum steps match torch weights and BN running stats within 1e-4', async () => {
    const f = fixture<TrainFixture>('resnet18-train-step.json');
    const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
    model.setHead(deterministicTensor('fc.weight', PARITY_HEAD_SEED, [f.numClasses, 512]), deterministicTensor('fc.bias', PARITY_HEAD_SEED + 1, [f.numClasses]), f.numClasses);
    const opt = new Sgd([{ name: 'all', params: [...model.backboneVariables(), ...model.headVariables()], lr: f.lr }], { momentum: f.momentum, weightDecay: f.weightDecay });
    const labels = tf.tensor1d(f.labels, 'int32');
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      const x = tf.tensor4d(deterministicImagesNhwc(1 + step, f.batch, f.imageSize), [f.batch, f.imageSize, f.imageSize, 3]);
      losses.push((await trainStep(model, opt, x, labels)).lossSum / f.batch);
      x.dispose();
    }
    expect(losses[0]).toBeCloseTo(f.losses[0]!, 4);
    expect(losses[1]).toBeCloseTo(f.losses[1]!, 4);
    const sd = await exportStateDict(model);
    expect(stateDictMismatches(sd, f.after)).toEqual([]);
    labels.dispose();
    opt.dispose();
    model.dispose();
  });
});
