// The worker's repositories on the real Postgres: an epoch written twice is stored once (the
// second write wins), the summary columns follow the stored epochs, status transitions never
// leave a terminal state, and the Worker registry heartbeats and removes rows.
import { randomUUID } from 'node:crypto';
import { EpochMetricRepository, ExperimentRunRepository, PrismaService, WorkerRepository } from '@fleet/persistence';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { testDatabaseUrl } from '../test-env.mjs';

const prisma = new PrismaService(testDatabaseUrl());
const runs = new ExperimentRunRepository(prisma);
const epochs = new EpochMetricRepository(prisma);
const workers = new WorkerRepository(prisma);

afterAll(async () => {
  await prisma.$disconnect();
});

async function newExperiment(): Promise<string> {
  const row = await prisma.experiment.create({
    data: { dataset: 'tiny', strategy: 'scratch', lr: 0.01, lrFactor: 0.1, momentum: 0.9, epochs: 3, batchSize: 4, imageSize: 32, seed: 1, stepSize: 7, gamma: 0.1 },
  });
  return row.id;
}

const metrics = (epoch: number, valAcc: number): EpochMetrics => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAcc: 0.5,
  valLoss: 0.7,
  valAcc,
  lrs: [0.01],
  seconds: 0.5,
  imagesPerSec: 32,
  trainableParams: 11_000_000,
  backboneDrift: 0.1 * epoch,
  bnStatsDrift: 0.01,
});

describe('ExperimentRunRepository', () => {
  it('stores a re-run epoch once and keeps the summary consistent with the stored epochs', async () => {
    const id = await newExperiment();
    expect(await runs.markRunning(id, { workerId: 'w1', backend: 'cpu' })).toBe(true);
    await runs.recordEpoch(id, metrics(1, 0.6));
    await runs.recordEpoch(id, metrics(2, 0.8));
    // The worker died after storing epoch 2; the next attempt resumed from epoch 1's checkpoint.
    expect(await runs.markRunning(id, { workerId: 'w2', backend: 'cpu' })).toBe(true);
    await runs.recordEpoch(id, metrics(2, 0.8));
    const summary = await runs.recordEpoch(id, metrics(3, 0.8));

    expect(summary).toEqual({ epochsDone: 3, bestValAcc: 0.8, bestEpoch: 2, finalValAcc: 0.8, searched: false });
    const stored = await epochs.listByExperiment(id);
    expect(stored.map((m) => m.epoch)).toEqual([1, 2, 3]);
    const row = await prisma.experiment.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'running', attempts: 2, workerId: 'w2', epochsDone: 3, bestEpoch: 2, bestValAcc: 0.8, finalValAcc: 0.8 });
    expect(Math.abs((row.startedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(10_000);
    expect(await runs.markSucceeded(id)).toBe(true);
    expect(await runs.markSucceeded(id)).toBe(false);
    const done = await prisma.experiment.findUniqueOrThrow({ where: { id } });
    expect(done).toMatchObject({ status: 'succeeded', error: null });
    expect(Math.abs((done.finishedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(10_000);
  });

  it('replaces a re-run epoch whole (every column) and recomputes best and final from the new values', async () => {
    const id = await newExperiment();
    await runs.recordEpoch(id, metrics(1, 0.7));
    await runs.recordEpoch(id, metrics(2, 0.9));
    // Epoch 2 re-run after a crash came out worse: the best is epoch 1 now, the final value 0.5.
    const rerun = { ...metrics(2, 0.5), trainLoss: 1.25, lrs: [0.0001, 0.001], seconds: 7.5, trainableParams: 1026, backboneDrift: 0.375, bnStatsDrift: 0.125 };
    expect(await runs.recordEpoch(id, rerun)).toEqual({ epochsDone: 2, bestValAcc: 0.7, bestEpoch: 1, finalValAcc: 0.5, searched: false });
    const stored = await epochs.listByExperiment(id);
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject(rerun);
    // The first best is kept on ties (the tutorial's `if epoch_acc > best_acc`).
    expect(await runs.recordEpoch(id, metrics(3, 0.7))).toMatchObject({ epochsDone: 3, bestEpoch: 1, finalValAcc: 0.7 });
  });

  it('refuses an epoch of an experiment that no longer exists', async () => {
    await expect(runs.recordEpoch('00000000-0000-0000-0000-000000000000', metrics(1, 0.5))).rejects.toThrow();
  });

  it('never leaves a terminal state', async () => {
    const id = await newExperiment();
    expect(await runs.markCancelled(id)).toBe(true);
    expect(await runs.markRunning(id, { workerId: 'w', backend: 'cpu' })).toBe(false);
    expect(await runs.markSucceeded(id)).toBe(false);
    expect(await runs.markFailed(id, 'late')).toBe(false);
    expect(await runs.getStatus(id)).toBe('cancelled');
    expect(await runs.markRunning(randomUUID(), { workerId: 'w', backend: 'cpu' })).toBe(false);
  });

  it('puts a running experiment back in the queue with a note, and fails it with the reason', async () => {
    const id = await newExperiment();
    await runs.markRunning(id, { workerId: 'w', backend: 'wasm', backendInfo: 'simd' });
    expect(await runs.markRequeued(id, 'worker shut down')).toBe(true);
    expect(await prisma.experiment.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'queued', workerId: null, error: 'worker shut down' });
    await runs.markRunning(id, { workerId: 'w', backend: 'wasm' });
    expect(await runs.markFailed(id, 'weights: bad magic')).toBe(true);
    const row = await prisma.experiment.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'failed', error: 'weights: bad magic' });
    expect(row.finishedAt).toBeInstanceOf(Date);
  });
});

describe('WorkerRepository', () => {
  it('registers, heartbeats, lists recent workers and removes them', async () => {
    const id = `test-host:${process.pid}:${randomUUID().slice(0, 6)}`;
    const self = { id, host: 'test-host', pid: process.pid, gpu: 1, backend: 'cpu', backendInfo: 'js' };
    await workers.register(self);
    await workers.heartbeat(self, 'exp-1');
    const listed = (await workers.listActive(60_000)).find((w) => w.id === id);
    expect(listed).toMatchObject({ host: 'test-host', gpu: 1, backend: 'cpu', currentExperimentId: 'exp-1' });

    await workers.remove(id);
    expect((await workers.listActive(60_000)).some((w) => w.id === id)).toBe(false);
    // A heartbeat after the row vanished brings it back.
    await workers.heartbeat(self, null);
    const back = (await workers.listActive(60_000)).find((w) => w.id === id);
    expect(back).toMatchObject({ host: 'test-host', pid: process.pid, gpu: 1, backend: 'cpu', backendInfo: 'js', currentExperimentId: null });
    // Times are stored as UTC wall clock like Prisma's own writes, whatever the server's TimeZone.
    expect(Math.abs((back?.lastSeenAt.getTime() ?? 0) - Date.now())).toBeLessThan(10_000);
    await workers.remove(id);
  });
});
