// QueueService.enqueue on the real Redis: a large enqueue goes in chunks (the first with a job for
// every idle worker, then ENQUEUE_CHUNK at a time), each followed by a wake of at most its own size
// and never more than the idle workers counted; a chunk that fails removes the chunks already
// added, so a failed submit leaves no job behind.
import { jest } from '@jest/globals';
import { WorkerRepository } from '@fleet/persistence';
import { ENQUEUE_CHUNK, QueueService, type EnqueueItem } from '../../apps/api/src/queue/queue.service.js';
import { startApi, type ApiTestContext } from './api-app.js';

const items = (n: number, tag: string): EnqueueItem[] =>
  Array.from({ length: n }, (_, i) => ({
    data: { experimentId: `${tag}-${i}`, config: { dataset: 'd', strategy: 'scratch', epochs: 1 } } as EnqueueItem['data'],
    priority: 0,
  }));

describe('QueueService.enqueue in chunks', () => {
  let ctx: ApiTestContext;
  let queue: QueueService;
  let idle: ReturnType<typeof jest.spyOn>;

  beforeAll(async () => {
    ctx = await startApi();
    queue = ctx.app.get(QueueService);
  });

  beforeEach(() => {
    // The shared test database has other suites' workers: the idle count is set here.
    idle = jest.spyOn(ctx.app.get(WorkerRepository), 'countIdle');
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await ctx.queue.obliterate({ force: true });
  });

  afterAll(() => ctx.close());

  it('adds every job of a large enqueue, in order, in chunks', async () => {
    idle.mockResolvedValue(0);
    const addBulk = jest.spyOn(queue.queue, 'addBulk');
    const n = 2 * ENQUEUE_CHUNK + 50;
    await queue.enqueue(items(n, 'all'));
    expect(addBulk.mock.calls.map(([jobs]) => jobs.length)).toEqual([ENQUEUE_CHUNK, ENQUEUE_CHUNK, 50]);
    expect(await ctx.queue.getJobCountByTypes('prioritized', 'waiting')).toBe(n);
    // Same priority: BullMQ hands them out in the order they were added.
    const first = await ctx.queue.getJobs(['prioritized'], 0, 2, true);
    expect(first.map((j) => j.id)).toEqual(['all-0', 'all-1', 'all-2']);
  });

  it('puts a job for every idle worker in the first chunk and wakes them all once', async () => {
    idle.mockResolvedValue(ENQUEUE_CHUNK + 50);
    const addBulk = jest.spyOn(queue.queue, 'addBulk');
    await queue.enqueue(items(3 * ENQUEUE_CHUNK, 'wake'));
    expect(addBulk.mock.calls.map(([jobs]) => jobs.length)).toEqual([ENQUEUE_CHUNK + 50, ENQUEUE_CHUNK, 50]);
    // wake:1..150 after the first chunk, nothing after the others (no idle worker left), plus
    // BullMQ's own "0".
    const members = await ctx.redis.zrange(ctx.queue.keys.marker ?? '', '0', '-1');
    expect(members.length).toBe(ENQUEUE_CHUNK + 51);
    expect(members).toContain('0');
    expect(members).toContain(`wake:${ENQUEUE_CHUNK + 50}`);
  });

  it('wakes no more workers than the jobs enqueued', async () => {
    idle.mockResolvedValue(500);
    await queue.enqueue(items(30, 'few'));
    expect(await ctx.redis.zcard(ctx.queue.keys.marker ?? '')).toBe(31);
  });

  it('a chunk that fails removes the chunks already added and rejects', async () => {
    idle.mockResolvedValue(0);
    const real = queue.queue.addBulk.bind(queue.queue);
    jest
      .spyOn(queue.queue, 'addBulk')
      .mockImplementationOnce(real)
      .mockImplementationOnce(() => Promise.reject(new Error('Redis went away')));
    await expect(queue.enqueue(items(2 * ENQUEUE_CHUNK, 'fail'))).rejects.toThrow('Redis went away');
    expect(await ctx.queue.getJobCountByTypes('prioritized', 'waiting', 'delayed', 'active')).toBe(0);
    expect(await ctx.queue.getJob('fail-0')).toBeUndefined();
  });
});
