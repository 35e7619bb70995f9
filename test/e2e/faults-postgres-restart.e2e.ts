// Postgres restarted mid-epoch (a private cluster, stopped with `pg_ctl -m fast` like a service
// restart): the epoch written while it is down is retried until it lands, nothing is lost, and the
// worker neither crashes nor restarts its training process: the run goes on as one attempt.
import { comparableMetrics, createExperiment, storedEpochs, waitForEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { PrivatePostgres } from '../support/private-services.js';
import { finalStatusEvents, startFaultFleet, faultExperiment } from '../faults/fault-fleet.js';

describe('Postgres restarted mid-epoch', () => {
  let postgres: PrivatePostgres;
  let fleet: E2eFleet;
  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    fleet = await startFaultFleet({ postgres, workers: 1 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
    await postgres?.destroy();
  });

  it('retries the epoch write until Postgres is back and loses nothing', async () => {
    const { api, prisma } = fleet;
    const worker = fleet.workers[0];
    if (!worker) throw new Error('no worker');
    const config = faultExperiment({ epochs: 2, seed: 5 });
    const id = await createExperiment(api, { ...config, name: 'postgres restart' });

    await waitForEpochs(prisma, id, 1, 240_000);
    await postgres.stop('fast');
    // Epoch 2 finishes while Postgres is down: its write fails and is retried (the worker says so).
    await worker.process.waitForLine(new RegExp(`storing epoch 2 of ${id} failed \\(attempt \\d+\\), retrying`), 240_000);
    await postgres.start();

    const row = await waitForStatus(prisma, id, ['succeeded'], 240_000);
    // A second attempt means some write gave up on the restarting server: say which.
    if (row.attempts !== 1) throw new Error(`expected 1 attempt, got ${row.attempts}; worker log:\n${worker.process.output}`);
    expect(await storedEpochs(prisma, id)).toEqual([1, 2]);
    expect(await finalStatusEvents(fleet, id)).toEqual(['succeeded']);

    // No crash loop: same worker process, same training process, and it still takes jobs.
    expect(worker.process.running).toBe(true);
    expect(worker.process.output).not.toMatch(/training child \d+ exited/);
    const clean = await createExperiment(api, { ...config, name: 'clean' });
    await waitForStatus(prisma, clean, ['succeeded'], 240_000);
    expect(fleet.apiProcess.process.running).toBe(true);

    // Nothing lost or skewed: the metrics equal a clean run's with the same seed.
    const [a, b] = await Promise.all([comparableMetrics(prisma, id), comparableMetrics(prisma, clean)]);
    expect(a.map((m) => m.epoch)).toEqual([1, 2]);
    a.forEach((m, i) => {
      for (const key of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'backboneDrift', 'bnStatsDrift'] as const) expect(m[key]).toBeCloseTo(b[i]?.[key] ?? NaN, 6);
    });
  }, 600_000);
});
