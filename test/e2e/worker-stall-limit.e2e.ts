// A job that stalled more times than maxStalledCount is failed by BullMQ itself, by whichever worker
// picks it up next, without our processor ever running. Its experiment must end `failed` with that
// reason, not stay `running`/`queued` forever. The deferred failure BullMQ records on such a job
// (its `defa` field) is set directly, so the test does not need six crashed workers.
import { Redis } from 'ioredis';
import { QueueName } from '@fleet/queue';
import { createExperiment, startE2eFleet, tinyExperiment, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';

describe('jobs failed by BullMQ outside the processor', () => {
  let fleet: E2eFleet;
  let redis: Redis;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 0 });
    redis = new Redis(fleet.harness.redisUrl);
  }, 180_000);
  afterAll(async () => {
    redis?.disconnect();
    await fleet?.close();
  });

  it('marks the experiment failed with BullMQ reason when a job exceeded the stall limit', async () => {
    const id = await createExperiment(fleet.api, tinyExperiment());
    const jobKey = `${fleet.harness.queuePrefix}:${QueueName.Train}:${id}`;
    expect(await redis.exists(jobKey)).toBe(1);
    await redis.hset(jobKey, 'defa', 'job stalled more than allowable limit');

    await fleet.harness.startWorker();
    const row = await waitForStatus(fleet.prisma, id, ['failed']);
    expect(row.error).toBe('job stalled more than allowable limit');
    expect(await fleet.prisma.epochMetric.count({ where: { experimentId: id } })).toBe(0);
  }, 120_000);
});
