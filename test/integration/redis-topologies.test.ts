// The fleet's Redis use on a real 3-master Redis Cluster and behind a real Sentinel, both started
// by this file: BullMQ jobs, cancel pub/sub (CancelListener) and event streams (the publisher and
// a blocking read on a duplicate), all through createRedisConnection, as the apps build them.
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { cancelChannel, cancelledKey, closeConnection, createRedisConnection, duplicateConnection, eventStreamKey, type RedisConnection } from '@fleet/queue';
import { CancelListener } from '../../apps/worker/src/cancel.listener.js';
import { ExperimentEventPublisher } from '../../apps/worker/src/experiment-event.publisher.js';
import { PrivateRedisCluster, PrivateSentinel } from '../support/private-redis-cluster.js';
import { waitFor } from '../support/wait-for.js';

/** Adds three jobs in one addBulk (one MULTI) and waits until a Worker on its own connection has done them. */
async function runJobs(url: string, prefix: string): Promise<number[]> {
  // BullMQ leaves connections it was given open: they are closed here.
  const connections = [createRedisConnection(url, { maxRetriesPerRequest: 1 }), createRedisConnection(url, { maxRetriesPerRequest: null })] as const;
  const queue = new Queue<{ n: number }, number>('train', { connection: connections[0], prefix });
  const done: number[] = [];
  const worker = new Worker<{ n: number }, number>(
    'train',
    async (job) => {
      done.push(job.data.n);
      return job.data.n;
    },
    { connection: connections[1], prefix },
  );
  try {
    await queue.addBulk([1, 2, 3].map((n) => ({ name: 'train-experiment', data: { n }, opts: { jobId: `job-${n}` } })));
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 3, { timeoutMs: 20_000, what: 'three completed jobs' });
    return done.sort();
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await Promise.all(connections.map((c) => closeConnection(c)));
  }
}

/** A cancel published on one connection reaches the worker's CancelListener. */
async function cancelArrives(url: string, prefix: string): Promise<string> {
  const heard: string[] = [];
  const listener = new CancelListener(url, prefix, (id) => heard.push(id));
  const publisher = createRedisConnection(url, { maxRetriesPerRequest: 1 });
  try {
    await listener.start();
    return await waitFor(
      async () => {
        await publisher.publish(cancelChannel(prefix), 'exp-1');
        return heard[0];
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the cancel message' },
    );
  } finally {
    await listener.stop();
    await closeConnection(publisher);
  }
}

describe('Redis Cluster (3 masters, started here)', () => {
  let cluster: PrivateRedisCluster;
  let redis: RedisConnection;
  const prefix = `{t${randomBytes(4).toString('hex')}}`;
  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start(3);
    redis = createRedisConnection(cluster.url, { maxRetriesPerRequest: 1 });
  }, 60_000);
  afterAll(async () => {
    if (redis) await closeConnection(redis);
    await cluster?.destroy();
  });

  it('spreads slots over three masters', async () => {
    expect(await cluster.nodes()).toHaveLength(3);
  });

  it('runs BullMQ jobs under a hash-tagged prefix', async () => {
    expect(await runJobs(cluster.url, prefix)).toEqual([1, 2, 3]);
  });

  it('delivers a cancel to a CancelListener', async () => {
    expect(await cancelArrives(cluster.url, prefix)).toBe('exp-1');
  });

  it('writes events to a stream and wakes a blocking reader on a duplicate connection', async () => {
    const key = eventStreamKey(prefix, 'exp-2');
    const reader = duplicateConnection(redis);
    try {
      // From 0-0 on a stream not written yet: the read blocks until the first entry, however late it starts.
      const read = reader.xread('BLOCK', 10_000, 'STREAMS', key, '0-0');
      await new ExperimentEventPublisher(redis, prefix).publish({ type: 'status', experimentId: 'exp-2', status: 'running', at: new Date().toISOString() });
      const reply = await read;
      expect(JSON.parse(reply?.[0]?.[1][0]?.[1][1] ?? '{}')).toMatchObject({ type: 'status', status: 'running' });
    } finally {
      reader.disconnect();
    }
  });

  it('deletes several cancel flags in one DEL under the hash tag; the same DEL without one is CROSSSLOT', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    await Promise.all(ids.map((id) => redis.set(cancelledKey(prefix, id), '1')));
    expect(await redis.del(...ids.map((id) => cancelledKey(prefix, id)))).toBe(4);
    await expect(redis.del(...ids.map((id) => cancelledKey('untagged', id)))).rejects.toThrow(/CROSSSLOT/);
  });
});

describe('Redis behind Sentinel (1 master + 1 sentinel, started here)', () => {
  let sentinel: PrivateSentinel;
  beforeAll(async () => {
    sentinel = await PrivateSentinel.start();
  }, 60_000);
  afterAll(async () => {
    await sentinel?.destroy();
  });

  it('finds the master through the sentinel and runs BullMQ jobs and cancels on it', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}`;
    expect(await runJobs(sentinel.url, prefix)).toEqual([1, 2, 3]);
    expect(await cancelArrives(sentinel.url, prefix)).toBe('exp-1');
    // The commands really went to the master the sentinel named.
    const direct = createRedisConnection(`redis://127.0.0.1:${sentinel.masterPort}`);
    try {
      const info = await direct.info('stats');
      expect(Number(/total_commands_processed:(\d+)/.exec(info)?.[1])).toBeGreaterThan(20);
    } finally {
      direct.disconnect();
    }
  });
});
