import { initBackend } from '../backend/init-backend.js';
import { tf } from '../backend/tf.js';
import { NATIVE_ENABLED } from '../train/testing/cpu-paths.js';
import { Sgd, stepLr } from './sgd.js';

/** Three steps of one optimizer over two parameters (one large enough to be split across threads). */
async function threeSteps(momentum: number, weightDecay: number): Promise<number[][]> {
  const make = (n: number, salt: number) => {
    const init = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.3 + salt)));
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const params = [make(100_003, 1), make(7, 2)];
  const opt = new Sgd([{ name: 'all', params, lr: 0.013 }], { momentum, weightDecay });
  for (let step = 0; step < 3; step++) {
    const grads = Object.fromEntries(params.map((p, k) => [p.name, tf.tensor1d(Float32Array.from({ length: p.size }, (_, i) => Math.cos(i * 0.7 + step + k)))]));
    // inside a tidy, as the training step calls it: the momentum buffers must survive it
    tf.tidy(() => opt.step(grads));
    tf.dispose(Object.values(grads));
  }
  const out = await Promise.all(params.map(async (p) => Array.from(await p.data())));
  tf.dispose(params);
  opt.dispose();
  return out;
}

describe('Sgd (torch.optim.SGD semantics)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('uses v = g on the first step, then v = m*v + g + wd*p, and p -= lr*v', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new Sgd([{ name: 'all', params: [p], lr: 0.1 }], { momentum: 0.9, weightDecay: 0.01 });
    const g = tf.tensor1d([0.5, 0.25]);
    opt.step({ [p.name]: g });
    // d = g + 0.01 p = [0.51, 0.23]; v = d; p = p - 0.1 v
    const p1 = [1 - 0.1 * 0.51, -2 - 0.1 * 0.23];
    expect(Array.from(p.dataSync())).toEqual(p1.map(Math.fround));
    opt.step({ [p.name]: g });
    const d2 = [0.5 + 0.01 * p1[0]!, 0.25 + 0.01 * p1[1]!];
    const v2 = [0.9 * 0.51 + d2[0]!, 0.9 * 0.23 + d2[1]!];
    const got = p.dataSync();
    expect(got[0]).toBeCloseTo(p1[0]! - 0.1 * v2[0]!, 6);
    expect(got[1]).toBeCloseTo(p1[1]! - 0.1 * v2[1]!, 6);
    tf.dispose([p, g]);
    opt.dispose();
  });

  it('fails loudly when a parameter has no gradient', () => {
    const p = tf.variable(tf.scalar(1));
    const opt = new Sgd([{ name: 'head', params: [p], lr: 0.1 }]);
    expect(() => opt.step({})).toThrow(/no gradient for parameter .* of group head/);
    p.dispose();
  });
});

describe('stepLr (StepLR stepped per epoch)', () => {
  it('multiplies by gamma every stepSize epochs, as torch does (repeated multiplication)', () => {
    const lrs = Array.from({ length: 25 }, (_, e) => stepLr(0.001, e, 7, 0.1));
    expect(lrs.slice(0, 7).every((l) => l === 0.001)).toBe(true);
    expect(lrs[7]).toBe(0.001 * 0.1);
    expect(lrs[14]).toBe(0.001 * 0.1 * 0.1);
    expect(lrs[21]).toBe(0.001 * 0.1 * 0.1 * 0.1);
    expect(stepLr(0, 30, 7, 0.1)).toBe(0);
  });
});

const native = NATIVE_ENABLED ? describe : describe.skip;

native('Sgd on the native path', () => {
  it.each([
    [0.9, 0],
    [0.9, 0.01],
    [0, 0.001],
  ])('one native kernel per parameter updates bit for bit like the tf ops (momentum %d, weight decay %d)', async (momentum, weightDecay) => {
    await initBackend('wasm');
    const ref = await threeSteps(momentum, weightDecay);
    await initBackend('wasm+onednn');
    const tensorsBefore = tf.memory().numTensors;
    const got = await threeSteps(momentum, weightDecay);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(got).toEqual(ref);
  });
});
