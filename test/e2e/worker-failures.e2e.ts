// Failures that must not be retried fail at once with a reason a person can act on, and leave the
// worker alive to take the next job: an invalid payload written straight to the queue, a broken
// weights file, and an ARTIFACTS_DIR the worker cannot write to.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JobName, DEFAULT_TRAIN_JOB_OPTIONS } from '@fleet/queue';
import { createExperiment, useE2eFleetWithQueue, tinyExperiment, waitForStatus } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

describe('unrecoverable failures', () => {
  const suite = useE2eFleetWithQueue({ workers: 1 });

  it('fails an invalid payload at once with the field named, attempts 1', async () => {
    const job = await suite.queue.add(JobName.TrainExperiment, { experimentId: 'not-a-uuid', config: { dataset: '../etc', strategy: 'magic', epochs: 0 } }, { ...DEFAULT_TRAIN_JOB_OPTIONS, jobId: 'invalid-1' });
    await waitFor(async () => (await suite.queue.getJobState(job.id ?? '')) === 'failed', { what: 'the invalid job to fail' });
    const failed = await suite.queue.getJob(job.id ?? '');
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/invalid train job payload/);
    expect(failed?.failedReason).toMatch(/experimentId/);
    expect(failed?.failedReason).toMatch(/config\.strategy/);
  }, 60_000);

  it('fails a broken weights file at once, without retries', async () => {
    await writeFile(path.join(suite.fleet.harness.weightsRoot, 'broken.pth'), 'this is not a torch file');
    const id = await createExperiment(suite.fleet.api, tinyExperiment({ weights: 'broken.pth' }));
    const row = await waitForStatus(suite.fleet.prisma, id, ['failed']);
    expect(row.error).toMatch(/broken\.pth/);
    expect(row.attempts).toBe(1);
    // The row is marked failed just before BullMQ records the failure: wait for BullMQ's side.
    await waitFor(async () => (await suite.queue.getJobState(id)) === 'failed', { what: 'the job to fail in BullMQ' });
    expect((await suite.queue.getJob(id))?.attemptsMade).toBe(1);
  }, 60_000);

  it('fails the experiment when ARTIFACTS_DIR is not writable and takes the next job', async () => {
    // A regular file where a folder should be: not writable even for root.
    const blocker = path.join(suite.fleet.harness.root, 'blocked');
    await writeFile(blocker, '');
    const worker = await suite.fleet.harness.startWorker({ env: { ARTIFACTS_DIR: path.join(blocker, 'artifacts') } });
    suite.fleet.workers[0]?.process.signal('SIGTERM');
    await suite.fleet.workers[0]?.process.exited;

    const id = await createExperiment(suite.fleet.api, tinyExperiment());
    const row = await waitForStatus(suite.fleet.prisma, id, ['failed']);
    expect(row.error).toMatch(/ARTIFACTS_DIR/);
    expect(row.error).toContain(blocker);
    expect(row.attempts).toBeLessThanOrEqual(1);
    expect(worker.process.running).toBe(true);

    await rm(blocker);
    await mkdir(blocker);
    const next = await createExperiment(suite.fleet.api, tinyExperiment());
    const ok = await waitForStatus(suite.fleet.prisma, next, ['succeeded']);
    expect(ok.workerId).toBe(worker.id);
  }, 240_000);
});
