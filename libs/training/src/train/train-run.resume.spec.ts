import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { readCheckpoint } from '../checkpoint/checkpoint.js';
import type { EpochMetrics } from '../contracts.js';
import { CPU_PATHS } from './testing/cpu-paths.js';
import { DeterministicWeightsCache, FAKE_WEIGHTS, makeTinyDataset, type TinyDataset } from './testing/tiny-run.js';
import { trainRun, type TrainRunOptions } from './train-run.js';

/** Everything but wall-clock timings. */
const comparable = (epochs: EpochMetrics[]) => epochs.map(({ seconds: _s, imagesPerSec: _i, ...rest }) => rest);

describe.each(CPU_PATHS)('trainRun determinism, memory, checkpoints and cancellation on %s', (backend) => {
  let data: TinyDataset;
  let ckptRoot: string;
  const cache = new DeterministicWeightsCache();
  const base = (): TrainRunOptions => ({
    datasetDir: data.dir,
    weightsPath: FAKE_WEIGHTS,
    hyper: { strategy: 'finetune', epochs: 3, batchSize: 4, imageSize: 32, lr: 0.002, stepSize: 2, seed: 7 },
    backend,
    cache,
  });

  beforeAll(async () => {
    data = await makeTinyDataset(3, 2, 32);
    ckptRoot = await mkdtemp(path.join(os.tmpdir(), 'ff-ckpt-'));
  });
  afterAll(async () => {
    await data.remove();
    await rm(ckptRoot, { recursive: true, force: true });
  });

  it('is deterministic, holds no more tensors after epoch 3 than after 1, and resumes after epoch 1 exactly', async () => {
    const tensors: number[] = [];
    const full = await trainRun({ ...base(), onEpoch: () => void tensors.push(tf.memory().numTensors) });
    expect(full.epochs).toHaveLength(3);
    expect(full.epochs.map((e) => e.lrs)).toEqual([[0.002], [0.002], [0.002 * 0.1]]);
    expect(tensors).toHaveLength(3);
    expect(tensors[2]).toBe(tensors[0]);

    const dir = path.join(ckptRoot, `resume-${backend}`);
    const first = await trainRun({ ...base(), hyper: { ...base().hyper, epochs: 1 }, checkpointDir: dir });
    // Same seed, same backend: the first epoch is identical.
    expect(comparable(first.epochs)).toEqual(comparable(full.epochs.slice(0, 1)));
    const ckpt = await readCheckpoint(dir);
    expect(ckpt?.meta.epoch).toBe(1);
    expect([...ckpt!.tensors.keys()].some((k) => k.startsWith('momentum/layer4.1.conv2'))).toBe(true);

    const seen: number[] = [];
    const resumed = await trainRun({ ...base(), checkpointDir: dir, resume: true, onEpoch: (m) => void seen.push(m.epoch) });
    expect(resumed.resumedFromEpoch).toBe(1);
    expect(seen).toEqual([2, 3]);
    expect(comparable(resumed.epochs)).toEqual(comparable(full.epochs));
  }, 240_000);

  it('refuses to resume a checkpoint made with other settings', async () => {
    const dir = path.join(ckptRoot, `resume-${backend}`);
    await expect(trainRun({ ...base(), hyper: { ...base().hyper, lr: 0.5 }, checkpointDir: dir, resume: true })).rejects.toThrow(/different settings \(lr: 0.002 vs 0.5\)/);
  });

  it('with checkpointFinalEpoch false, keeps the checkpoint before the last epoch, from which a rerun retrains the last epoch identically', async () => {
    const dir = path.join(ckptRoot, `no-final-${backend}`);
    const hyper = { ...base().hyper, strategy: 'freeze' as const, epochs: 2 };
    const first = await trainRun({ ...base(), hyper, checkpointDir: dir, checkpointFinalEpoch: false });
    expect(first.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect((await readCheckpoint(dir))?.meta.epoch).toBe(1);
    // A crash after the last epoch was stored, before the run was marked succeeded: the next attempt.
    const seen: number[] = [];
    const again = await trainRun({ ...base(), hyper, checkpointDir: dir, checkpointFinalEpoch: false, resume: true, onEpoch: (m) => void seen.push(m.epoch) });
    expect({ resumedFrom: again.resumedFromEpoch, seen }).toEqual({ resumedFrom: 1, seen: [2] });
    expect(comparable(again.epochs)).toEqual(comparable(first.epochs));
  });

  it('stops within one batch when aborted, keeping the last finished epoch checkpointed', async () => {
    const dir = path.join(ckptRoot, `abort-${backend}`);
    const ac = new AbortController();
    const r = await trainRun({
      ...base(),
      hyper: { ...base().hyper, strategy: 'freeze' },
      checkpointDir: dir,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.epoch === 2 && p.phase === 'train' && p.batch === 1) ac.abort();
      },
    });
    expect(r.cancelled).toBe(true);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1]);
    expect((await readCheckpoint(dir))?.meta.epoch).toBe(1);
  });
});
