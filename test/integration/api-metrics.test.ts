// GET /metrics of the in-process API: METRICS_TOKEN as a bearer token, the paused-queue rule of
// fleet_queue_jobs on a real BullMQ queue, and a scrape that still answers, saying which source is
// down, while Redis is away.
import request from 'supertest';
import { parsePromText, Scrape } from '../support/prom-text.js';
import { startApi, type ApiTestContext } from './api-app.js';

const scrapeOf = (text: string): Scrape => new Scrape(parsePromText(text));

describe('GET /metrics', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi({ metricsToken: 's3cret' }, { metricsCacheMs: 0 });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('needs the bearer token when METRICS_TOKEN is set, not the API key', async () => {
    expect((await request(ctx.server).get('/metrics')).status).toBe(401);
    expect((await request(ctx.server).get('/metrics').set('authorization', 'Bearer wrong')).status).toBe(401);
    const res = await request(ctx.server).get('/metrics').set('authorization', 'Bearer s3cret');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts the runnable jobs of a paused queue as paused, not as backlog', async () => {
    await ctx.queue.add('train-experiment', {}, { priority: 3 });
    await ctx.queue.add('train-experiment', {});
    const get = async () => scrapeOf((await request(ctx.server).get('/metrics').set('authorization', 'Bearer s3cret')).text);
    const running = await get();
    expect(running.value('fleet_queue_jobs', { queue: 'train', state: 'waiting' })).toBe(1);
    expect(running.value('fleet_queue_jobs', { queue: 'train', state: 'prioritized' })).toBe(1);
    expect(running.value('fleet_queue_jobs', { queue: 'train', state: 'paused' })).toBe(0);
    await ctx.queue.pause();
    const paused = await get();
    expect(paused.value('fleet_queue_jobs', { queue: 'train', state: 'waiting' })).toBe(0);
    expect(paused.value('fleet_queue_jobs', { queue: 'train', state: 'prioritized' })).toBe(0);
    expect(paused.value('fleet_queue_jobs', { queue: 'train', state: 'paused' })).toBe(2);
  });
});

describe('GET /metrics with Redis down', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi({ redisUrl: 'redis://127.0.0.1:1' });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('still answers: the Postgres series, and redis marked down instead of the queue series', async () => {
    const res = await request(ctx.server).get('/metrics');
    expect(res.status).toBe(200);
    const s = scrapeOf(res.text);
    expect(s.value('fleet_metrics_source_up', { source: 'redis' })).toBe(0);
    expect(s.value('fleet_metrics_source_up', { source: 'postgres' })).toBe(1);
    expect(s.find('fleet_queue_jobs')).toEqual([]);
    expect(s.find('fleet_runs', { status: 'queued' })).toHaveLength(1);
  }, 20_000);
});
