// API key, rate limit, OpenAPI document, workers and health: the routes around the experiments.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startApi, type ApiTestContext } from './api-app.js';

describe('API key', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi({ apiKey: 's3cret-key' });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('401 on /api routes without the key or with a wrong one (even of another length), 200 with it', async () => {
    const none = await request(ctx.server).get('/api/experiments');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'missing x-api-key header' });
    expect((await request(ctx.server).get('/api/experiments').set('x-api-key', 's3cret-kez')).status).toBe(401);
    expect((await request(ctx.server).get('/api/experiments').set('x-api-key', 's')).status).toBe(401);
    expect((await request(ctx.server).post('/api/experiments').send({})).status).toBe(401);
    expect((await request(ctx.server).get('/api/experiments?limit=1').set('x-api-key', 's3cret-key')).status).toBe(200);
  });

  it('nothing is stored or enqueued by an unauthenticated submit', async () => {
    const [rows, jobs] = await Promise.all([ctx.countExperiments(), ctx.countJobs()]);
    const res = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch' });
    expect(res.status).toBe(401);
    expect(await ctx.countExperiments()).toBe(rows);
    expect(await ctx.countJobs()).toBe(jobs);
  });

  it('keeps /health and /docs open', async () => {
    expect((await request(ctx.server).get('/health')).status).toBe(200);
    const doc = await request(ctx.server).get('/docs/json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths as object)).toEqual(expect.arrayContaining(['/api/experiments', '/api/experiments/{id}/events', '/api/sweeps/{id}/compare', '/api/workers', '/health']));
    expect(doc.body.components.schemas.CreateExperimentDto.properties.lr).toMatchObject({ maximum: 10 });
  });
});

describe('rate limit, workers', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi({}, { rateLimit: { burst: 3, perSecond: 0.01 } });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('answers 429 with Retry-After once a client used up its POST burst; GETs are not limited', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'nope' })).status);
    expect(codes).toEqual([400, 400, 400, 429]);
    const limited = await request(ctx.server).post('/api/experiments').send({});
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect((await request(ctx.server).get('/api/experiments?limit=1')).status).toBe(200);
  });

  it('lists the workers seen recently, not the stale ones', async () => {
    const fresh = `test-${randomUUID()}`;
    const stale = `test-${randomUUID()}`;
    await ctx.prisma.worker.createMany({
      data: [
        { id: fresh, host: 'gpu-box', pid: 42, gpu: 0, backend: 'webgpu', backendInfo: 'nvidia ampere', lastSeenAt: new Date() },
        { id: stale, host: 'old-box', pid: 7, backend: 'wasm', lastSeenAt: new Date(Date.now() - 120_000) },
      ],
    });
    try {
      const res = await request(ctx.server).get('/api/workers');
      expect(res.status).toBe(200);
      const ids = (res.body.items as { id: string }[]).map((w) => w.id);
      expect(ids).toContain(fresh);
      expect(ids).not.toContain(stale);
      expect(res.body.items.find((w: { id: string }) => w.id === fresh)).toMatchObject({ host: 'gpu-box', pid: 42, gpu: 0, backend: 'webgpu', backendInfo: 'nvidia ampere', currentExperimentId: null });
    } finally {
      await ctx.prisma.worker.deleteMany({ where: { id: { in: [fresh, stale] } } });
    }
  });
});

describe('health with Redis down', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi({ redisUrl: 'redis://127.0.0.1:1' }, { enqueueTimeoutMs: 500 });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('answers 503 naming Redis', async () => {
    const res = await request(ctx.server).get('/health');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'degraded', postgres: 'up', redis: 'down' });
  });

  it('a submit that cannot be enqueued is a 503 and the stored row is marked failed, not left queued', async () => {
    const res = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch' });
    expect(res.status).toBe(503);
    expect(res.body.message).toContain('could not enqueue');
    const rows = await ctx.prisma.experiment.findMany({ where: { dataset: ctx.dataset } });
    expect(rows.map((r) => [r.status, r.error?.startsWith('could not enqueue')])).toEqual([['failed', true]]);
  });

  it('a sweep that cannot be enqueued is a 503 and leaves nothing stored', async () => {
    const before = await ctx.countExperiments();
    const res = await request(ctx.server).post('/api/sweeps').send({ base: { dataset: ctx.dataset, strategy: 'scratch' }, grid: { seed: [0, 1, 2] } });
    expect(res.status).toBe(503);
    expect(await ctx.countExperiments()).toBe(before);
  });
});
