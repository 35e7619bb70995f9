// The API killed (kill -9) and started again while a worker trains: nothing is lost (the running
// run and a queued one both finish with every epoch), and an SSE client whose stream broke
// reconnects with Last-Event-ID and receives every event of the experiment's stream exactly once,
// in order, across both connections.
import { Redis } from 'ioredis';
import { eventStreamKey } from '@fleet/queue';
import { createExperiment, storedEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { SseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';
import { finalStatusEvents, startFaultFleet, faultExperiment } from '../faults/fault-fleet.js';

describe('API restarted while workers run', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startFaultFleet({ workers: 1 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('loses nothing, and an SSE client resumes with Last-Event-ID without gaps or duplicates', async () => {
    const { api, prisma, harness } = fleet;
    const running = await createExperiment(api, faultExperiment({ epochs: 3, name: 'running across the restart' }));
    const queued = await createExperiment(api, faultExperiment({ epochs: 2, name: 'queued across the restart' }));

    // From the start of the stream, so the client must end up with every entry.
    const first = new SseClient(`${fleet.apiProcess.url}/api/experiments/${running}/events`, '0-0');
    await waitFor(() => first.frames.some((f) => f.event === 'epoch'), { timeoutMs: 240_000, what: 'the first epoch event over SSE' });
    await fleet.apiProcess.process.kill();
    expect(await first.done).toBe('broken');
    const lastSeen = first.frames.filter((f) => f.id !== undefined).at(-1)?.id;
    if (!lastSeen) throw new Error('no event with an id before the restart');

    const restarted = await harness.startApi();
    const second = new SseClient(`${restarted.url}/api/experiments/${running}/events`, lastSeen);
    expect(await second.done).toBe('ended');

    await waitForStatus(prisma, running, ['succeeded'], 240_000);
    await waitForStatus(prisma, queued, ['succeeded'], 240_000);
    expect(await storedEpochs(prisma, running)).toEqual([1, 2, 3]);
    expect(await storedEpochs(prisma, queued)).toEqual([1, 2]);
    expect(await finalStatusEvents(fleet, running)).toEqual(['succeeded']);

    const redis = new Redis(harness.redisUrl);
    const stream = await redis.xrange(eventStreamKey(harness.queuePrefix, running), '-', '+');
    redis.disconnect();
    const received = [...first.frames, ...second.frames].filter((f) => f.id !== undefined);
    // Both connections carried part of the stream: the resume really resumed.
    expect(first.frames.filter((f) => f.id !== undefined).length).toBeGreaterThan(0);
    expect(second.frames.filter((f) => f.id !== undefined).length).toBeGreaterThan(0);
    expect(received.map((f) => f.id)).toEqual(stream.map(([id]) => id));
    const epochs = received.filter((f) => f.event === 'epoch').map((f) => (JSON.parse(f.data) as { metrics: { epoch: number } }).metrics.epoch);
    expect(epochs).toEqual([1, 2, 3]);
    expect(received.at(-1)?.event).toBe('status');
    expect(fleet.workers[0]?.process.running).toBe(true);
  }, 600_000);
});
