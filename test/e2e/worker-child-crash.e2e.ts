// The training process dies under a running job (out of memory, a native crash): the worker
// survives, the attempt fails and is retried with backoff on a fresh training process, which
// resumes from the checkpoint; every epoch is stored once.
import { createExperiment, startE2eFleet, storedEpochs, tinyExperiment, waitForEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { childPids, isAlive } from '../support/managed-process.js';
import { waitFor } from '../support/wait-for.js';

describe('training process crash', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 1 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('retries the job on a restarted training process and completes it', async () => {
    const { api, prisma } = fleet;
    const worker = fleet.workers[0];
    const trainingPid = worker?.trainingPids[0];
    if (!worker || trainingPid === undefined) throw new Error('no worker');
    const id = await createExperiment(api, tinyExperiment({ epochs: 3 }));
    await waitForEpochs(prisma, id, 1);

    process.kill(trainingPid, 'SIGKILL');
    await waitFor(() => !isAlive(trainingPid), { what: 'the training process to die' });

    const done = await waitForStatus(prisma, id, ['succeeded'], 180_000);
    expect(done.attempts).toBe(2);
    expect(await storedEpochs(prisma, id)).toEqual([1, 2, 3]);
    expect(worker.process.running).toBe(true);
    expect(worker.process.output).toMatch(/training process crashed/);
    expect(worker.process.output).toMatch(/resumed from checkpoint after epoch [1-3]/);
    const fresh = childPids(worker.pid);
    expect(fresh).toHaveLength(1);
    expect(fresh).not.toContain(trainingPid);
  }, 240_000);
});
