// POST/GET /api/experiments and cancel, against the real Postgres and Redis.
import request from 'supertest';
import { startApi, type ApiTestContext } from './api-app.js';

describe('API experiments', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi();
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('stores a submitted experiment with the defaults and enqueues a job whose id is the experiment id', async () => {
    const res = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, weights: ctx.weights, strategy: 'finetune', epochs: 3, name: 'première expérience 🐝' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'queued', name: 'première expérience 🐝', strategy: 'finetune', dataset: ctx.dataset, priority: 0 });
    expect(res.body.config).toEqual({ dataset: ctx.dataset, weights: ctx.weights, strategy: 'finetune', epochs: 3, batchSize: 16, lr: 0.001, lrFactor: 0.1, momentum: 0.9, weightDecay: 0, stepSize: 7, gamma: 0.1, imageSize: 224, seed: 0 });
    const job = await ctx.queue.getJob(res.body.id as string);
    expect(job?.id).toBe(res.body.id);
    expect(job?.data).toEqual({ experimentId: res.body.id, config: res.body.config });
    const row = await ctx.prisma.experiment.findUnique({ where: { id: res.body.id as string } });
    expect(row?.status).toBe('queued');
  });

  it('returns one experiment with its epochs in order; 404 unknown, 400 malformed id', async () => {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs: 2 });
    const id = created.body.id as string;
    await ctx.prisma.epochMetric.createMany({
      data: [2, 1].map((epoch) => ({ experimentId: id, epoch, trainLoss: 1 / epoch, trainAcc: 0.5, valLoss: 0.7, valAcc: 0.6 + epoch / 100, lrs: [0.001], seconds: 1.5, imagesPerSec: 100, trainableParams: 1026, backboneDrift: 0, bnStatsDrift: 0 })),
    });
    const res = await request(ctx.server).get(`/api/experiments/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    expect(res.body.epochs[1]).toMatchObject({ valAcc: 0.62, lrs: [0.001] });
    const missing = await request(ctx.server).get('/api/experiments/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    const bad = await request(ctx.server).get('/api/experiments/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, field: 'id' });
  });

  it('cancels a queued experiment: job removed, status cancelled, cancel flag set; a second cancel is a 409', async () => {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch' });
    const id = created.body.id as string;
    expect(await ctx.queue.getJob(id)).toBeDefined();
    const res = await request(ctx.server).post(`/api/experiments/${id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.finishedAt).not.toBeNull();
    expect(await ctx.queue.getJob(id)).toBeUndefined();
    expect(await ctx.redis.get(`${ctx.config.queuePrefix}:cancelled:${id}`)).toBe('1');
    const again = await request(ctx.server).post(`/api/experiments/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('already cancelled');
  });

  it('cancels a running experiment by telling its worker on the cancel channel; metrics so far are kept', async () => {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs: 5 });
    const id = created.body.id as string;
    await ctx.prisma.experiment.update({ where: { id }, data: { status: 'running', startedAt: new Date(), epochsDone: 1 } });
    await ctx.prisma.epochMetric.create({ data: { experimentId: id, epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, lrs: [0.001], seconds: 1, imagesPerSec: 1, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 } });
    const subscriber = ctx.redis.duplicate();
    const heard = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
    await subscriber.subscribe(`${ctx.config.queuePrefix}:cancel`);
    try {
      const res = await request(ctx.server).post(`/api/experiments/${id}/cancel`);
      expect(res.status).toBe(200);
      expect(await heard).toBe(id);
      const detail = await request(ctx.server).get(`/api/experiments/${id}`);
      expect(detail.body).toMatchObject({ status: 'cancelled', epochsDone: 1 });
      expect(detail.body.epochs).toHaveLength(1);
    } finally {
      await subscriber.quit();
    }
  });

  it('refuses to cancel a finished experiment with 409 and the reason', async () => {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch' });
    const id = created.body.id as string;
    await ctx.prisma.experiment.update({ where: { id }, data: { status: 'succeeded', finishedAt: new Date() } });
    const res = await request(ctx.server).post(`/api/experiments/${id}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    expect(res.body.message).toContain('already succeeded');
  });

  it('GET /health reports both services up', async () => {
    const res = await request(ctx.server).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', postgres: 'up', redis: 'up' });
  });
});
