import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readCheckpoint } from '@fleet/training/checkpoint/checkpoint.js';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { classifyFailure } from './failure-kind.js';
import { expectedSimulatedMetrics, simulatedTrainRun, type SimulatedMetrics, type SimulatedRunOptions } from './simulated-engine.js';

let root: string;
let datasetDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fleet-sim-'));
  datasetDir = path.join(root, 'data');
  for (const c of ['ants', 'bees']) await mkdir(path.join(datasetDir, 'train', c), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const hyper = { strategy: 'finetune', seed: 3, epochs: 5, lr: 0.01, stepSize: 3 } as const;
const wallClockFree = ({ seconds: _s, imagesPerSec: _i, ...rest }: EpochMetrics): SimulatedMetrics => rest;

function options(checkpointDir: string, overrides: Partial<SimulatedRunOptions> = {}): SimulatedRunOptions {
  return { datasetDir, hyper, checkpointDir, resume: true, epochMs: 0, onEpoch: () => undefined, ...overrides };
}

describe('simulatedTrainRun', () => {
  it('reports every epoch in order, deterministically from the hyper-parameters', async () => {
    const a: EpochMetrics[] = [];
    const b: EpochMetrics[] = [];
    await simulatedTrainRun(options(path.join(root, 'a'), { onEpoch: (m) => void a.push(m) }));
    await simulatedTrainRun(options(path.join(root, 'b'), { onEpoch: (m) => void b.push(m) }));
    expect(a.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(a.map(wallClockFree)).toEqual(b.map(wallClockFree));
    expect(a.map(wallClockFree)).toEqual(expectedSimulatedMetrics(hyper, 2, 5));
    // StepLR(3, 0.1) and a run that learns: loss falls, accuracy stays a probability.
    expect(a.map((m) => m.lrs[0])).toEqual([0.01, 0.01, 0.01, 0.001, 0.001].map((x) => expect.closeTo(x, 12)));
    expect(a[4]!.trainLoss).toBeLessThan(a[0]!.trainLoss);
    for (const m of a) expect(m.valAcc >= 0 && m.valAcc <= 1).toBe(true);
    const otherSeed = expectedSimulatedMetrics({ ...hyper, seed: 4 }, 2, 5);
    expect(otherSeed[0]!.valAcc).not.toBe(a[0]!.valAcc);
  });

  it('writes the checkpoint of an epoch before reporting it', async () => {
    const dir = path.join(root, 'ckpt');
    const seen: number[] = [];
    await simulatedTrainRun(options(dir, { onEpoch: async () => void seen.push((await readCheckpoint(dir))?.meta.epoch ?? -1) }));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('without the last epoch\'s checkpoint (the worker\'s choice), a rerun after the last epoch retrains it identically from the one before', async () => {
    const dir = path.join(root, 'no-final');
    const first: EpochMetrics[] = [];
    await simulatedTrainRun(options(dir, { checkpointFinalEpoch: false, onEpoch: (m) => void first.push(m) }));
    expect(first.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect((await readCheckpoint(dir))?.meta.epoch).toBe(4);
    // A crash after epoch 5 was stored, before the run was marked succeeded: the next attempt.
    const again: EpochMetrics[] = [];
    const starts: number[] = [];
    await simulatedTrainRun(options(dir, { checkpointFinalEpoch: false, onStart: (info) => void starts.push(info.startEpoch), onEpoch: (m) => void again.push(m) }));
    expect(starts).toEqual([4]);
    expect(again.map(wallClockFree)).toEqual(first.slice(4).map(wallClockFree));
  });

  it('resumed after a cancel, gives the uninterrupted run\'s epochs (state comes from the checkpoint)', async () => {
    const dir = path.join(root, 'resume');
    const controller = new AbortController();
    const first: EpochMetrics[] = [];
    const stopped = await simulatedTrainRun(
      options(dir, { epochMs: 5, signal: controller.signal, onEpoch: (m) => {
        first.push(m);
        if (m.epoch === 2) controller.abort();
      } }),
    );
    expect(stopped.cancelled).toBe(true);
    const second: EpochMetrics[] = [];
    const starts: number[] = [];
    const resumed = await simulatedTrainRun(options(dir, { onStart: (info) => void starts.push(info.startEpoch), onEpoch: (m) => void second.push(m) }));
    expect({ cancelled: resumed.cancelled, starts }).toEqual({ cancelled: false, starts: [2] });
    expect([...first, ...second].map(wallClockFree)).toEqual(expectedSimulatedMetrics(hyper, 2, 5));
    // Without the checkpoint's state, epoch 3 would differ: a fresh run's third epoch is not the same input.
    expect((await readCheckpoint(dir))?.meta.history.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a checkpoint made with other settings, and a missing dataset, as unrecoverable', async () => {
    const dir = path.join(root, 'other');
    await simulatedTrainRun(options(dir, { hyper: { ...hyper, epochs: 1 } }));
    const wrongLr = await simulatedTrainRun(options(dir, { hyper: { ...hyper, lr: 0.5 } })).catch((err: unknown) => err);
    expect(classifyFailure(wrongLr)).toMatchObject({ name: 'TrainConfigError', kind: 'unrecoverable', message: expect.stringContaining('lr') });
    const missing = await simulatedTrainRun(options(dir, { datasetDir: path.join(root, 'nope') })).catch((err: unknown) => err);
    expect(classifyFailure(missing)).toMatchObject({ kind: 'unrecoverable', message: expect.stringContaining('nope') });
  });

  it('stops between batches once aborted, without reporting the epoch', async () => {
    const controller = new AbortController();
    const reported: number[] = [];
    const progress: number[] = [];
    const run = simulatedTrainRun(options(path.join(root, 'cancel'), {
      epochMs: 200,
      signal: controller.signal,
      onProgress: (p) => {
        progress.push(p.batch);
        if (p.batch === 2) controller.abort();
      },
      onEpoch: (m) => void reported.push(m.epoch),
    }));
    await expect(run).resolves.toEqual({ cancelled: true, startEpoch: 0 });
    expect({ reported, progress }).toEqual({ reported: [], progress: [1, 2] });
  });
});
