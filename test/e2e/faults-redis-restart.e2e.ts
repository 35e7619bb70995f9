// Redis restarted mid-sweep (a private redis-server with an append-only file, as in production):
// the workers and the API reconnect by themselves, no job is lost, none runs twice to completion,
// and the API still enqueues afterwards.
import { Queue } from 'bullmq';
import { QueueName } from '@fleet/queue';
import { comparableMetrics, createExperiment, storedEpochs, settledJobCounts, waitForEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { PrivateRedis } from '../support/private-services.js';
import { finalStatusEvents, startFaultFleet, faultExperiment } from '../faults/fault-fleet.js';

describe('Redis restarted mid-sweep', () => {
  let redis: PrivateRedis;
  let fleet: E2eFleet;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    fleet = await startFaultFleet({ redis, workers: 2 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
    await redis?.destroy();
  });

  it('loses no job and completes each once', async () => {
    const { api, prisma, harness } = fleet;
    const sweep = await api.post<{ id: string; experimentIds: string[] }>('/api/sweeps', {
      name: 'redis restart',
      base: faultExperiment({ epochs: 2 }),
      grid: { seed: [1, 2, 3, 4] },
    });
    expect(sweep.experimentIds).toHaveLength(4);

    // Mid-sweep: one run has an epoch stored while others still wait in the queue.
    await waitFor1Epoch(fleet, sweep.experimentIds);
    await redis.restart('SIGTERM');
    // And a crash of Redis itself later on (the append-only file is fsynced on every write).
    await waitForStatus(prisma, sweep.experimentIds[0] as string, ['succeeded'], 240_000);
    await redis.restart('SIGKILL');

    for (const id of sweep.experimentIds) await waitForStatus(prisma, id, ['succeeded'], 300_000);
    // The API reconnected too: it still enqueues, and workers still take the job.
    const after = await createExperiment(api, faultExperiment({ epochs: 1, name: 'after restarts' }));
    await waitForStatus(prisma, after, ['succeeded'], 120_000);

    const queue = new Queue(QueueName.Train, { connection: { url: harness.redisUrl }, prefix: harness.queuePrefix });
    try {
      const counts = await settledJobCounts(queue);
      expect(counts).toEqual({ completed: 5, failed: 0, waiting: 0, active: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
    for (const id of sweep.experimentIds) {
      expect({ id, epochs: await storedEpochs(prisma, id), finals: await finalStatusEvents(fleet, id) }).toEqual({ id, epochs: [1, 2], finals: ['succeeded'] });
      expect((await comparableMetrics(prisma, id)).every((m) => Number.isFinite(m.trainLoss))).toBe(true);
    }
    for (const worker of fleet.workers) expect(worker.process.running).toBe(true);
  }, 600_000);
});

async function waitFor1Epoch(fleet: E2eFleet, ids: string[]): Promise<void> {
  await Promise.any(ids.map((id) => waitForEpochs(fleet.prisma, id, 1, 240_000)));
}
