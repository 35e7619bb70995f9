// Cancel reaches the experiment wherever it is: a queued one never runs, a running one stops within
// a batch with its stored epochs kept, and its job completes instead of being retried.
import { createExperiment, useE2eFleetWithQueue, storedEpochs, tinyExperiment, waitForEpochs, waitForStatus } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

describe('cancel', () => {
  const suite = useE2eFleetWithQueue({ workers: 1 });

  it('stops a running experiment within a batch and never starts a queued one', async () => {
    const { api, prisma } = suite.fleet;
    const running = await createExperiment(api, tinyExperiment({ epochs: 20, name: 'running' }));
    const queued = await createExperiment(api, tinyExperiment({ epochs: 2, name: 'queued' }));
    await waitForEpochs(prisma, running, 1);

    await api.post(`/api/experiments/${queued}/cancel`);
    await api.post(`/api/experiments/${running}/cancel`);

    const stopped = await waitForStatus(prisma, running, ['cancelled'], 60_000);
    const kept = await storedEpochs(prisma, running);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(20);
    expect(kept).toEqual(kept.map((_, i) => i + 1));
    expect(stopped.attempts).toBe(1);
    const job = await waitFor(async () => ((await suite.queue.getJob(running)) && (await suite.queue.getJobState(running)) === 'completed' ? suite.queue.getJob(running) : undefined), { what: 'the cancelled job to complete' });
    expect(job.returnvalue).toMatchObject({ experimentId: running, cancelled: true });
    expect(job.attemptsMade).toBeLessThanOrEqual(1);

    // The worker is free again; the queued experiment was never trained.
    const next = await createExperiment(api, tinyExperiment({ epochs: 1, name: 'after' }));
    await waitForStatus(prisma, next, ['succeeded']);
    const q = await prisma.experiment.findUniqueOrThrow({ where: { id: queued } });
    expect(q).toMatchObject({ status: 'cancelled', attempts: 0, epochsDone: 0 });
    expect(await storedEpochs(prisma, queued)).toEqual([]);
  }, 240_000);
});
