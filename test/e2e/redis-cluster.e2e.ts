// The built fleet on a real 3-master Redis Cluster that this file starts (and always stops):
// REDIS_URL=redis+cluster://..., a hash-tagged QUEUE_PREFIX. A sweep runs to completion while the
// master serving the queue's slot is restarted twice (a clean stop, then a crash); an SSE client
// receives the run's events; afterwards the API still enqueues and a cancel still reaches the
// worker. "Survived" means: every run succeeds with each epoch stored once, BullMQ completes each
// job once and fails none, no terminal status event is written twice, and every process lives on.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { closeConnection, createRedisConnection, QueueName } from '@fleet/queue';
import { createExperiment, startE2eFleet, storedEpochs, settledJobCounts, waitForEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { PrivateRedisCluster } from '../support/private-redis-cluster.js';
import { SseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';
import { FAULT_WORKER_ARGS, faultExperiment, finalStatusEvents } from '../faults/fault-fleet.js';

describe('fleet on a Redis Cluster (3 masters, started here)', () => {
  let cluster: PrivateRedisCluster | undefined;
  let fleet: E2eFleet | undefined;
  const queuePrefix = `{t${randomBytes(5).toString('hex')}}`;
  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start(3);
    fleet = await startE2eFleet({ redisUrl: cluster.url, queuePrefix, workers: 1, worker: { args: FAULT_WORKER_ARGS } });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close().catch(() => undefined);
    await cluster?.destroy();
  });

  it('completes a sweep across restarts of the queue slot master, streams SSE events and still enqueues and cancels', async () => {
    if (!fleet || !cluster) throw new Error('set-up failed');
    const { api, prisma, harness } = fleet;
    const master = await cluster.masterOf(`${queuePrefix}:${QueueName.Train}:wait`);
    // The keys of the queue and our own keys (events, cancel flags) share the hash tag, so one slot.
    expect(await cluster.masterOf(`${queuePrefix}:events:x`)).toBe(master);

    const sweep = await api.post<{ id: string; experimentIds: string[] }>('/api/sweeps', {
      name: 'cluster sweep',
      base: faultExperiment({ epochs: 2 }),
      grid: { seed: [1, 2, 3] },
    });
    const ids = sweep.experimentIds;
    expect(ids).toHaveLength(3);
    const sse = new SseClient(`${fleet.apiProcess.url}/api/experiments/${ids[0] as string}/events`, '0-0');

    // Mid-sweep: one epoch stored, other runs still waiting in the queue on the master we stop.
    await Promise.any(ids.map((id) => waitForEpochs(prisma, id, 1, 120_000)));
    await cluster.restart(master, 'SIGTERM');
    await waitForStatus(prisma, ids[0] as string, ['succeeded'], 120_000);
    await cluster.restart(master, 'SIGKILL');
    for (const id of ids) await waitForStatus(prisma, id, ['succeeded'], 120_000);

    // The SSE events of the first run arrive in order, each once, both epochs and the final status,
    // on ONE connection: the relay's blocking read rides out the restart (no reconnect needed).
    expect(await sse.done).toBe('ended');
    const events = sse.frames.filter((f) => f.id !== undefined);
    expect(events.map((f) => f.id)).toEqual([...new Set(events.map((f) => f.id))]);
    const epochs = events.filter((f) => f.event === 'epoch').map((f) => (JSON.parse(f.data) as { metrics: { epoch: number } }).metrics.epoch);
    expect(epochs).toEqual([1, 2]);
    expect(JSON.parse(events.at(-1)?.data ?? '{}')).toMatchObject({ type: 'status', status: 'succeeded' });

    // The API's connections came back: it enqueues, and a cancel reaches the worker running the job.
    const cancelled = await createExperiment(api, faultExperiment({ epochs: 50, name: 'cancelled after restarts' }));
    await waitForEpochs(prisma, cancelled, 1, 120_000);
    await api.post(`/api/experiments/${cancelled}/cancel`);
    await waitForStatus(prisma, cancelled, ['cancelled'], 60_000);
    // The API writes `cancelled` at once; the worker says this only when the cancel message reached it
    // over pub/sub (the cancel flag, checked at epoch ends, stops a run without it).
    await waitFor(() => fleet?.workers[0]?.process.output.includes(`cancel: stopping experiment ${cancelled}`), { timeoutMs: 20_000, what: 'the worker to hear the cancel over pub/sub' });

    const connection = createRedisConnection(harness.redisUrl, { maxRetriesPerRequest: 1 });
    const queue = new Queue(QueueName.Train, { connection, prefix: queuePrefix });
    try {
      const counts = await settledJobCounts(queue);
      expect(counts).toMatchObject({ completed: 4, failed: 0, waiting: 0, active: 0, delayed: 0 });
    } finally {
      await queue.close();
      await closeConnection(connection);
    }
    // Bull Board reads the same queue through its own cluster connection.
    const board = (await (await fetch(`${fleet.apiProcess.url}/queues/api/queues?activeQueue=train&status=completed`)).json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(board.queues.find((q) => q.name === QueueName.Train)?.counts).toMatchObject({ completed: 4, failed: 0 });
    for (const id of ids) {
      expect({ id, epochs: await storedEpochs(prisma, id), finals: await finalStatusEvents(fleet, id) }).toEqual({ id, epochs: [1, 2], finals: ['succeeded'] });
    }
    expect(fleet.apiProcess.process.running).toBe(true);
    for (const worker of fleet.workers) expect(worker.process.running).toBe(true);
  }, 300_000);
});
