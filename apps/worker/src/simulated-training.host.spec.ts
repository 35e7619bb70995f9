// The simulated engine's host keeps TrainingChildHost's contract: epochs stored before the next
// one, the checkpoint's epochs replayed on resume, a failed store fails the run, cancel stops it.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { SimulatedTrainingHost } from './simulated-training.host.js';
import { TrainingRunError } from './training-child.host.js';
import type { RunSpec } from './training-ipc.js';

let root: string;
let spec: RunSpec;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fleet-sim-host-'));
  await mkdir(path.join(root, 'data', 'train', 'ants'), { recursive: true });
  spec = { datasetDir: path.join(root, 'data'), hyper: { strategy: 'scratch', epochs: 3 } as RunSpec['hyper'], checkpointDir: path.join(root, 'ckpt'), resume: true };
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('SimulatedTrainingHost', () => {
  it('waits for each epoch to be stored before the next and times every report', async () => {
    const timings: [string, number][] = [];
    const host = new SimulatedTrainingHost({ epochMs: 10, record: (name, ms) => void timings.push([name, ms]) });
    expect(await host.start()).toMatchObject({ name: 'simulated' });
    const events: string[] = [];
    const outcome = await host.run(spec, {
      onEpoch: async (m) => {
        events.push(`store ${m.epoch}`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        events.push(`stored ${m.epoch}`);
      },
      onProgress: (p) => {
        if (events.at(-1) !== `progress ${p.epoch}`) events.push(`progress ${p.epoch}`);
      },
    });
    expect(outcome.status).toBe('completed');
    expect(events).toEqual(['progress 1', 'store 1', 'stored 1', 'progress 2', 'store 2', 'stored 2', 'progress 3', 'store 3', 'stored 3']);
    expect(timings.map(([name]) => name)).toEqual(['epoch.report', 'epoch.report', 'epoch.report']);
    expect(timings.every(([, ms]) => ms >= 25)).toBe(true);
    expect({ busy: host.busy, jobsDone: host.jobsDone, pid: host.pid }).toEqual({ busy: false, jobsDone: 1, pid: undefined });
  });

  it('replays the checkpoint\'s epochs on resume, then trains the rest', async () => {
    const host = new SimulatedTrainingHost({ epochMs: 0 });
    await expect(host.run(spec, { onEpoch: (m) => (m.epoch === 2 ? Promise.reject(new Error('database away')) : Promise.resolve()) })).rejects.toThrow('database away');
    const seen: number[] = [];
    const starts: number[] = [];
    const outcome = await host.run(spec, { onStarted: (i) => void starts.push(i.startEpoch), onEpoch: async (m: EpochMetrics) => void seen.push(m.epoch) });
    // Epoch 2 was checkpointed before its store failed: the resumed run reports it again, first.
    expect({ status: outcome.status, starts, seen }).toEqual({ status: 'completed', starts: [2], seen: [1, 2, 3] });
  });

  it('cancels at the next batch, and fails an engine error with its classification', async () => {
    const host = new SimulatedTrainingHost({ epochMs: 1000 });
    const run = host.run(spec, { onEpoch: () => Promise.resolve(), onProgress: () => host.cancel() });
    await expect(run).resolves.toMatchObject({ status: 'cancelled' });
    const failed = await host.run({ ...spec, datasetDir: path.join(root, 'missing') }, { onEpoch: () => Promise.resolve() }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(TrainingRunError);
    expect((failed as TrainingRunError).failure.kind).toBe('unrecoverable');
  });
});
