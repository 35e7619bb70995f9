// kill -9 of a worker right after it stored a run's last epoch, before the run is marked succeeded.
// The worker writes no checkpoint after a run's last epoch (it would delete it once the run
// succeeds), so the next attempt resumes from the epoch before and trains the last one again: the
// run still ends succeeded once, with each epoch stored once and the metrics of a clean run.
import path from 'node:path';
import { readCheckpoint } from '@fleet/training/checkpoint/checkpoint.js';
import { comparableMetrics, createExperiment, startE2eFleet, storedEpochs, trainingProcessesGone, tinyExperiment, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { FAST_STALL } from '../support/fleet-harness.js';

const EPOCHS = 2;

describe('worker killed after a run\'s last epoch was stored', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 0 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('trains the last epoch again from the checkpoint before it and succeeds once with a clean run\'s metrics', async () => {
    const { api, prisma, harness } = fleet;
    const config = tinyExperiment({ epochs: EPOCHS, seed: 5, strategy: 'freeze' });
    // The victim stops itself (SIGSTOP) right after the last epoch is committed (NODE_ENV=test only).
    const victim = await harness.startWorker({ env: { ...FAST_STALL, FLEET_FAULT_PAUSE: `metrics:${EPOCHS}` } });
    const killed = await createExperiment(api, { ...config, name: 'killed after its last epoch' });
    await victim.process.waitForLine(new RegExp(`fault point metrics:${EPOCHS} reached: pid \\d+ stops`), 120_000);

    expect(await storedEpochs(prisma, killed)).toEqual([1, 2]);
    expect((await prisma.experiment.findUniqueOrThrow({ where: { id: killed } })).status).toBe('running');
    // The checkpoint on disk is the one before the last epoch: none was written after it.
    expect((await readCheckpoint(path.join(harness.artifactsDir, killed)))?.meta.epoch).toBe(EPOCHS - 1);

    await victim.process.kill();
    await trainingProcessesGone(victim);

    const clean = await createExperiment(api, { ...config, name: 'clean' });
    const healthy = await harness.startWorker({ env: FAST_STALL });
    const [row] = await Promise.all([waitForStatus(prisma, killed, ['succeeded'], 180_000), waitForStatus(prisma, clean, ['succeeded'], 180_000)]);
    expect({ workerId: row.workerId, attempts: row.attempts }).toEqual({ workerId: healthy.id, attempts: 2 });
    expect(await storedEpochs(prisma, killed)).toEqual([1, 2]);
    expect(healthy.process.output).toMatch(new RegExp(`experiment ${killed} resumed from checkpoint after epoch ${EPOCHS - 1}`));

    const [a, b] = await Promise.all([comparableMetrics(prisma, killed), comparableMetrics(prisma, clean)]);
    expect(a.map((m) => m.epoch)).toEqual([1, 2]);
    a.forEach((m, i) => {
      const ref = b[i];
      expect(m.lrs).toEqual(ref?.lrs);
      for (const key of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'backboneDrift', 'bnStatsDrift'] as const) expect(m[key]).toBeCloseTo(ref?.[key] ?? NaN, 6);
    });
  }, 420_000);
});
