// Waking idle workers together when a sweep lands (libs/queue wake-idle-workers.ts, used by the
// API's QueueService.enqueue): against the real Redis, BullMQ's own marker wakes ONE blocked
// worker per add, the wake wakes as many as asked; a paused queue is left alone; real BullMQ
// workers woken with no job to take simply wait again and still take the next job. The idle count
// the API asks for comes from the Worker table (a private Postgres: the shared test database has
// the e2e suites' workers coming and going).
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { PrismaService, WorkerRepository } from '@fleet/persistence';
import { MAX_WAKE, wakeIdleWorkers } from '@fleet/queue';
import { PrivatePostgres } from '../support/private-services.js';
import { waitFor } from '../support/wait-for.js';
import { testRedisUrl } from '../test-env.mjs';

const connection = () => ({ url: testRedisUrl(), maxRetriesPerRequest: null });

describe('wakeIdleWorkers', () => {
  const prefix = `test-${randomUUID()}`;
  const queue = new Queue('wake', { connection: connection(), prefix });
  const redis = new Redis(testRedisUrl());
  const blocked: Redis[] = [];
  const marker = (): string => queue.keys.marker ?? '';

  /**
   * Clients of this file (named under its prefix, as BullMQ names its workers' connections) blocked
   * in BZPOPMIN: the shared test Redis has other suites' idle workers too.
   */
  const blockedHere = async (): Promise<number> =>
    ((await redis.client('LIST')) as string).split('\n').filter((line) => line.includes(` name=${prefix}:`) && line.includes(' cmd=bzpopmin')).length;

  /** `n` clients blocked on the marker as idle BullMQ workers are; resolves with what each popped. */
  async function idleClients(n: number): Promise<Promise<unknown>[]> {
    const clients = Array.from({ length: n }, (_, i) => new Redis(testRedisUrl(), { connectionName: `${prefix}:idle-${i}` }));
    blocked.push(...clients);
    // A client disconnected while blocked rejects its pop: counted as not woken.
    const pops = clients.map((c) => c.bzpopmin(marker(), 5).catch(() => null));
    await waitFor(async () => (await blockedHere()) >= n, { timeoutMs: 5000, what: `${n} blocked clients` });
    return pops;
  }

  const settledWithin = async (pops: Promise<unknown>[], ms: number): Promise<number> => {
    let done = 0;
    for (const p of pops) void p.then((r) => (done += r ? 1 : 0));
    await new Promise((resolve) => setTimeout(resolve, ms));
    return done;
  };

  const disconnectIdle = async (): Promise<void> => {
    for (const c of blocked.splice(0)) c.disconnect();
    await waitFor(async () => (await blockedHere()) === 0, { timeoutMs: 5000, what: 'idle clients gone' });
    await redis.del(marker());
  };

  afterEach(disconnectIdle);

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it("BullMQ's own marker wakes one idle worker; the wake wakes as many as asked at once", async () => {
    const pops = await idleClients(4);
    await redis.zadd(marker(), 0, '0'); // what adding a job does
    expect(await settledWithin(pops, 200)).toBe(1);
    await disconnectIdle();

    const more = await idleClients(4);
    expect(await wakeIdleWorkers(redis, queue.keys, 4)).toBe(4);
    expect(await settledWithin(more, 200)).toBe(4);
    // Each got a ready-now marker (score 0: BullMQ then asks for a job at once).
    for (const popped of await Promise.all(more)) expect((popped as string[])[2]).toBe('0');
  });

  it('reuses a fixed set of members, so markers nobody took never pile up', async () => {
    await wakeIdleWorkers(redis, queue.keys, 3);
    await wakeIdleWorkers(redis, queue.keys, 5);
    expect(await redis.zcard(marker())).toBe(5);
    expect(await wakeIdleWorkers(redis, queue.keys, MAX_WAKE + 500)).toBe(MAX_WAKE);
    expect(await redis.zcard(marker())).toBe(MAX_WAKE);
    expect(await wakeIdleWorkers(redis, queue.keys, 0)).toBe(0);
  });

  it('adds nothing while the queue is paused, like BullMQ', async () => {
    await queue.pause();
    try {
      expect(await wakeIdleWorkers(redis, queue.keys, 3)).toBe(0);
      expect(await redis.zcard(marker())).toBe(0);
    } finally {
      await queue.resume();
    }
  });

  it('real workers woken with nothing to take wait again and take the next job', async () => {
    const processed: string[] = [];
    const workers = Array.from({ length: 3 }, () => new Worker('wake', async (job) => void processed.push(job.id ?? '?'), { connection: connection(), prefix }));
    const errors: Error[] = [];
    for (const w of workers) w.on('error', (err) => errors.push(err));
    try {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await waitFor(async () => (await blockedHere()) >= 3, { timeoutMs: 5000, what: 'three idle workers' });
      expect(await wakeIdleWorkers(redis, queue.keys, 5)).toBe(5); // more than there are workers
      await waitFor(async () => (await redis.zcard(marker())) === 0, { timeoutMs: 5000 });
      await queue.addBulk([{ name: 'j', data: {}, opts: { jobId: 'after-wake-1' } }, { name: 'j', data: {}, opts: { jobId: 'after-wake-2' } }]);
      await waitFor(() => processed.length === 2, { timeoutMs: 5000 });
      expect(processed.sort()).toEqual(['after-wake-1', 'after-wake-2']);
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});

describe('WorkerRepository.countIdle', () => {
  let postgres: PrivatePostgres;
  let prisma: PrismaService;

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    prisma = new PrismaService(postgres.url());
  }, 60_000);

  afterAll(async () => {
    await prisma?.$disconnect();
    await postgres?.destroy();
  });

  it('counts live workers that run nothing', async () => {
    const workers = new WorkerRepository(prisma);
    const worker = (id: string) => ({ id, host: 'h', pid: 1, backend: 'simulated' });
    await workers.register(worker('idle-old'));
    await workers.heartbeat(worker('busy'), 'exp-1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await workers.register(worker('idle-new'));
    expect(await workers.countIdle(60_000)).toBe(2);
    // Outside the live window: a killed worker's row goes stale and stops counting.
    expect(await workers.countIdle(200)).toBe(1);
    await workers.heartbeat(worker('idle-new'), 'exp-2');
    expect(await workers.countIdle(60_000)).toBe(1);
    await workers.remove('idle-old');
    expect(await workers.countIdle(60_000)).toBe(0);
  });
});
