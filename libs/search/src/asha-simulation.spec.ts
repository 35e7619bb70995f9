// ASHA run against synthetic learning curves with no training: trials start in index order as
// slots free up (maxConcurrent at once, as lazy scheduling does), and an arrival order says which
// running trial reports its next epoch. Every rung decision goes through decideAtRung with the
// values recorded so far, as the database-backed scheduler does.
import { Rng } from '@fleet/training/rng.js';
import { ashaRungs, decideAtRung } from './asha.js';

const EPOCHS = 27;
const options = { minEpochs: 1, reductionFactor: 3, minRunsAtRung: 3 };

interface SimulatedTrial {
  quality: number;
  stoppedAt: number | null;
  epochs: number;
}

/** valAcc of a trial at an epoch: rises towards its quality; trials keep their order at every epoch. */
function curve(quality: number, epoch: number): number {
  return quality * (1 - 0.5 * Math.exp(-epoch / 4));
}

/** `pick(running)` chooses which running trial reports next. */
function simulate(qualities: number[], maxConcurrent: number, pick: (running: number[]) => number): SimulatedTrial[] {
  const rungs = ashaRungs(options, EPOCHS);
  const recorded = new Map<number, number[]>(rungs.map((r) => [r, []]));
  const trials: SimulatedTrial[] = qualities.map((quality) => ({ quality, stoppedAt: null, epochs: 0 }));
  let next = 0;
  const running: number[] = [];
  while (running.length > 0 || next < trials.length) {
    while (running.length < maxConcurrent && next < trials.length) running.push(next++);
    const index = pick(running);
    const trial = trials[index]!;
    trial.epochs += 1;
    let done = trial.epochs === EPOCHS;
    const atRung = recorded.get(trial.epochs);
    if (atRung && !done) {
      const value = curve(trial.quality, trial.epochs);
      const decision = decideAtRung(atRung, value, trial.epochs, options, 'maximize');
      atRung.push(value);
      if (decision.decision === 'stop') [trial.stoppedAt, done] = [trial.epochs, true];
    }
    if (done) running.splice(running.indexOf(index), 1);
  }
  return trials;
}

/** 3 middling trials first, then bad (0.2-0.3) and good (0.7-0.85) alternating, the best (0.95) at #11. */
const qualities = [0.75, 0.78, 0.72, 0.25, 0.8, 0.22, 0.7, 0.28, 0.83, 0.2, 0.76, 0.95, 0.3, 0.74, 0.24, 0.85, 0.21, 0.79, 0.26, 0.73];
const BEST = 11;
const isBad = (q: number) => q < 0.5;

function roundRobin(): (running: number[]) => number {
  let turn = 0;
  return (running) => running[turn++ % running.length]!;
}

describe('ASHA on synthetic curves', () => {
  it('has rungs 1, 3, 9 for minEpochs 1, rf 3 and 27 epochs', () => {
    expect(ashaRungs(options, EPOCHS)).toEqual([1, 3, 9]);
  });

  it('stops every known-bad trial at the first rung once minRunsAtRung values are recorded, and runs the best to the last epoch', () => {
    const trials = simulate(qualities, 4, roundRobin());
    trials.forEach((t, i) => {
      if (isBad(t.quality) && i >= options.minRunsAtRung) expect({ i, stoppedAt: t.stoppedAt, epochs: t.epochs }).toEqual({ i, stoppedAt: 1, epochs: 1 });
    });
    expect(trials[BEST]!.stoppedAt).toBeNull();
    expect(trials[BEST]!.epochs).toBe(EPOCHS);
    expect(trials.some((t) => !isBad(t.quality) && t.stoppedAt !== null)).toBe(true);
  });

  it('over 20 shuffled arrival orders never stops the best trial and spends at most half the epochs of running all to the end', () => {
    // 40 trials: the 20 above and 20 more spread over [0.2, 0.9).
    const many = [...qualities, ...Array.from({ length: 20 }, (_, i) => 0.2 + (0.7 * i) / 20)];
    const ratios: number[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const rng = new Rng(seed);
      const order = many.map((q) => [q, rng.next()] as const).sort((a, b) => a[1] - b[1]).map(([q]) => q);
      const trials = simulate(order, 4, (running) => running[rng.int(running.length)]!);
      const best = trials.find((t) => t.quality === 0.95)!;
      expect({ seed, stoppedAt: best.stoppedAt, epochs: best.epochs }).toEqual({ seed, stoppedAt: null, epochs: EPOCHS });
      const spent = trials.reduce((n, t) => n + t.epochs, 0);
      ratios.push(spent / (trials.length * EPOCHS));
    }
    expect(Math.max(...ratios)).toBeLessThanOrEqual(0.5);
  });
});
