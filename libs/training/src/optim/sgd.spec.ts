import { initBackend } from '../backend/init-backend.js';
import { tf } from '../backend/tf.js';
import { Sgd, stepLr } from './sgd.js';

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
