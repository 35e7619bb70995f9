// BullMQ 6 + ioredis 6 against the real Redis: a job added to a queue is processed by a Worker.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { testRedisUrl } from '../test-env.mjs';

function connection(): { url: string; maxRetriesPerRequest: null } {
  return { url: testRedisUrl(), maxRetriesPerRequest: null };
}

describe('BullMQ on Redis', () => {
  const prefix = `test-${randomUUID()}`;
  const queueName = 'bullmq-smoke';
  const queue = new Queue<{ n: number }, { doubled: number }>(queueName, { connection: connection(), prefix });
  const events = new QueueEvents(queueName, { connection: connection(), prefix });
  let worker: Worker<{ n: number }, { doubled: number }> | undefined;

  afterAll(async () => {
    await worker?.close();
    await queue.obliterate({ force: true });
    await Promise.all([queue.close(), events.close()]);
  });

  it('processes an added job and returns its result', async () => {
    await events.waitUntilReady();
    worker = new Worker<{ n: number }, { doubled: number }>(queueName, async (job) => ({ doubled: job.data.n * 2 }), {
      connection: connection(),
      prefix,
    });
    const job = await queue.add('double', { n: 21 }, { jobId: 'job-1' });
    const result = await job.waitUntilFinished(events, 10_000);
    expect(result).toEqual({ doubled: 42 });
    expect(await queue.getJobState('job-1')).toBe('completed');
  });

  it('treats a second add with the same job id as the same job (idempotent enqueue)', async () => {
    await queue.add('double', { n: 1 }, { jobId: 'same' });
    await queue.add('double', { n: 2 }, { jobId: 'same' });
    const job = await queue.getJob('same');
    expect(job?.data.n).toBe(1);
  });
});
