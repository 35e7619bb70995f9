// SIGTERM (a deploy, a scale-down): the worker stops the training at the next batch, hands the job
// back to the queue without counting a failure and exits 0; another worker resumes the run from
// the last checkpoint and every epoch ends up stored once.
import { createExperiment, useE2eFleetWithQueue, storedEpochs, tinyExperiment, waitForEpochs, waitForStatus } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

describe('SIGTERM while training', () => {
  const suite = useE2eFleetWithQueue({ workers: 1 });

  it('exits 0 and the job is resumed elsewhere with every epoch once', async () => {
    const { api, prisma, harness } = suite.fleet;
    const first = suite.fleet.workers[0];
    if (!first) throw new Error('no worker');
    const id = await createExperiment(api, tinyExperiment({ epochs: 4 }));
    await waitForEpochs(prisma, id, 1);

    first.process.signal('SIGTERM');
    const exit = await first.process.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const handedBack = await prisma.experiment.findUniqueOrThrow({ where: { id } });
    expect(handedBack.status).toBe('queued');
    expect(await prisma.worker.findUnique({ where: { id: first.id } })).toBeNull();
    expect(['waiting', 'prioritized']).toContain(await suite.queue.getJobState(id));
    // Handing the job back is not a failed attempt.
    expect((await suite.queue.getJob(id))?.attemptsMade).toBe(0);

    const second = await harness.startWorker();
    const done = await waitForStatus(prisma, id, ['succeeded'], 180_000);
    expect(done.workerId).toBe(second.id);
    expect(done.attempts).toBe(2);
    expect(await storedEpochs(prisma, id)).toEqual([1, 2, 3, 4]);
    expect(second.process.output).toMatch(/resumed from checkpoint/);
    // Completion counts the one attempt that finished it; both deliveries were started. The run is
    // marked succeeded as soon as its last epoch is stored, a moment before BullMQ records the job
    // as completed: wait for that before reading its counters.
    await waitFor(async () => (await suite.queue.getJobState(id)) === 'completed', { what: 'the job to be completed in BullMQ' });
    const job = await suite.queue.getJob(id);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.attemptsStarted).toBe(2);
  }, 300_000);
});
