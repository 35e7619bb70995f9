// Training runs off the worker's event loop, so BullMQ keeps renewing the job lock even when one
// epoch takes longer than the whole lock duration: no stall, no second delivery.
import { QueueEvents } from 'bullmq';
import { QueueName } from '@fleet/queue';
import { createExperiment, startE2eFleet, storedEpochs, tinyExperiment, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';

const LOCK_MS = 2000;

describe('epoch longer than the lock duration', () => {
  let fleet: E2eFleet;
  let events: QueueEvents;
  const stalled: string[] = [];
  beforeAll(async () => {
    // More and larger images than the other suites: an epoch must outlast the 2 s lock even on the
    // native CPU path (48 images at 224 px: ~4-5 s on one core of a 2026 Xeon).
    fleet = await startE2eFleet({
      workers: 1,
      dataset: { size: 64, trainPerClass: 24, valPerClass: 2 },
      worker: { env: { WORKER_LOCK_DURATION_MS: String(LOCK_MS), WORKER_STALLED_INTERVAL_MS: '500' } },
    });
    events = new QueueEvents(QueueName.Train, { connection: { url: fleet.harness.redisUrl }, prefix: fleet.harness.queuePrefix });
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
  }, 180_000);
  afterAll(async () => {
    await events?.close();
    await fleet?.close();
  });

  it('never stalls and runs the job once', async () => {
    const { api, prisma } = fleet;
    const id = await createExperiment(api, tinyExperiment({ epochs: 2, imageSize: 224 }));
    const done = await waitForStatus(prisma, id, ['succeeded'], 180_000);

    const epochs = await prisma.epochMetric.findMany({ where: { experimentId: id } });
    // The premise: at least one epoch really outlasted the lock.
    expect(Math.max(...epochs.map((e) => e.seconds))).toBeGreaterThan(LOCK_MS / 1000);
    expect(stalled).toEqual([]);
    expect(done.attempts).toBe(1);
    expect(await storedEpochs(prisma, id)).toEqual([1, 2]);
    expect(fleet.workers[0]?.process.output).not.toMatch(/stalled/);
  }, 240_000);
});
