// POST /api/sweeps in the searched form: every bad field a 400 naming it with nothing stored,
// lazy scheduling within maxConcurrent, the sweep detail's search view, cancel and retry.
import request from 'supertest';
import type { SweepSearchView } from '@fleet/contracts';
import { SweepSchedulerService } from '../../apps/api/src/sweeps/sweep-scheduler.service.js';
import { startApi, type ApiTestContext } from './api-app.js';

describe('API searched sweeps', () => {
  let ctx: ApiTestContext;
  let scheduler: SweepSchedulerService;
  beforeAll(async () => {
    // No timer: the test tops sweeps up itself, so every step is deterministic.
    ctx = await startApi({}, { sweepTickMs: 0 });
    scheduler = ctx.app.get(SweepSchedulerService);
  });
  afterAll(async () => {
    await ctx.close();
  });

  const body = () => ({
    name: 'search',
    base: { dataset: ctx.dataset, strategy: 'scratch', epochs: 9, imageSize: 32 },
    method: 'random',
    parameters: { lr: { distribution: 'log_uniform', min: 1e-4, max: 0.1 }, batchSize: { values: [4, 8] } },
    seeds: [0, 1],
    earlyStop: { type: 'asha', minEpochs: 1, reductionFactor: 3, minRunsAtRung: 2 },
    budget: { maxTrials: 3, maxConcurrent: 3 },
    searchSeed: 5,
  });

  async function detail(id: string): Promise<{ counts: Record<string, number>; search: SweepSearchView }> {
    const res = await request(ctx.server).get(`/api/sweeps/${id}`);
    expect(res.status).toBe(200);
    return res.body as { counts: Record<string, number>; search: SweepSearchView };
  }

  it('refuses a bad search naming each field, storing and enqueueing nothing', async () => {
    const [sweeps, jobs] = [await ctx.prisma.sweep.count(), await ctx.countJobs()];
    const bad = await request(ctx.server)
      .post('/api/sweeps')
      .send({ ...body(), method: 'bayes', parameters: { lr: { distribution: 'log_uniform', min: 0, max: 1 }, momentum: { distribution: 'uniform', min: 0.5 } }, budget: { maxConcurrent: 0 } });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['budget.maxConcurrent', 'method', 'parameters.lr.min', 'parameters.momentum.max']);
    // Valid as a search, but its range reaches values the experiment rules refuse.
    const outOfRange = await request(ctx.server).post('/api/sweeps').send({ ...body(), parameters: { lr: { distribution: 'uniform', min: 0.1, max: 20 }, batchSize: { values: [1, 8] } } });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.errors).toEqual([
      { field: 'parameters.batchSize', reason: 'batchSize must not be less than 2 (at batchSize=1)' },
      { field: 'parameters.lr', reason: 'lr must not be greater than 10 (at lr=20)' },
    ]);
    const noDataset = await request(ctx.server).post('/api/sweeps').send({ ...body(), base: { dataset: 'missing', strategy: 'scratch' } });
    expect([noDataset.status, noDataset.body.field]).toEqual([400, 'base.dataset']);
    expect([await ctx.prisma.sweep.count(), await ctx.countJobs()]).toEqual([sweeps, jobs]);
  });

  it('schedules lazily: maxConcurrent cells, seeds of a trial together, the next one when a cell ends', async () => {
    const res = await request(ctx.server).post('/api/sweeps').send(body());
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(res.body.count).toBe(3);
    expect(await ctx.countJobs()).toBeGreaterThanOrEqual(3);
    let view = (await detail(id)).search;
    expect(view.spec).toMatchObject({ method: 'random', seeds: [0, 1], metric: { name: 'valAcc', goal: 'maximize' }, budget: { maxTrials: 3, maxConcurrent: 3 } });
    expect(view.trials.map((t) => [t.index, t.cells.map((c) => c.seed)])).toEqual([
      [0, [0, 1]],
      [1, [0]],
    ]);
    expect(view.rungs.map((r) => r.rung)).toEqual([1, 3]);
    expect(view.gpuEpochs).toEqual({ used: 0, full: 2 * 2 * 9 });
    expect(await scheduler.fill(id)).toMatchObject({ created: [] });

    const first = view.trials[0]!.cells[0]!.id;
    await ctx.prisma.experiment.update({ where: { id: first }, data: { status: 'succeeded', epochsDone: 9 } });
    expect((await scheduler.fill(id))?.created.map((e) => e.gridValues)).toEqual([{ ...view.trials[1]!.params, seed: 1 }]);
    view = (await detail(id)).search;
    expect(view.gpuEpochs.used).toBe(9);
    expect(await ctx.prisma.experiment.count({ where: { sweepId: id, status: { in: ['queued', 'running'] } } })).toBe(3);
  });

  it('cancel stops scheduling; retry reruns failed runs but never a stopped one', async () => {
    const res = await request(ctx.server).post('/api/sweeps').send({ ...body(), budget: { maxTrials: 4, maxConcurrent: 2 } });
    const id = res.body.id as string;
    const [a, b] = res.body.experimentIds as string[];
    await ctx.prisma.experiment.update({ where: { id: a }, data: { status: 'stopped', stopReason: { rung: 1, value: 0.1, cutoff: 0.5, compared: 2 } } });
    await ctx.prisma.experiment.update({ where: { id: b }, data: { status: 'failed', error: 'boom' } });
    const retried = await request(ctx.server).post(`/api/sweeps/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.experimentIds).toEqual([b]);
    expect((await detail(id)).search.trials[0]).toMatchObject({ status: 'stopped', stopReason: { rung: 1, value: 0.1, cutoff: 0.5, compared: 2 } });

    const cancelled = await request(ctx.server).post(`/api/sweeps/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.experimentIds).toEqual([b]);
    expect(await scheduler.fill(id)).toMatchObject({ created: [] });
    const after = await detail(id);
    expect(after.search.state).toBe('cancelled');
    expect(after.counts).toMatchObject({ stopped: 1, cancelled: 1, queued: 0 });
    expect((await request(ctx.server).post('/api/sweeps/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
  });

  it('compare ranks the trials and shows stopped runs as stopped', async () => {
    const res = await request(ctx.server).post('/api/sweeps').send({ ...body(), budget: { maxTrials: 2, maxConcurrent: 4 } });
    const id = res.body.id as string;
    const cells = await ctx.prisma.experiment.findMany({ where: { sweepId: id }, include: { trial: true } });
    for (const c of cells) {
      const stopped = c.trial!.index === 0 && c.seed === 1;
      await ctx.prisma.experiment.update({ where: { id: c.id }, data: stopped ? { status: 'stopped', bestValAcc: 0.1 } : { status: 'succeeded', bestValAcc: c.trial!.index === 1 ? 0.9 : 0.5, bestEpoch: 1 } });
    }
    const compare = await request(ctx.server).get(`/api/sweeps/${id}/compare?groupBy=trial`);
    expect(compare.status).toBe(200);
    expect(compare.body.groups.map((g: { value: number; rank: number; n: number }) => [g.value, g.rank, g.n])).toEqual([
      [1, 1, 2],
      [0, 2, 1],
    ]);
    const trial0 = compare.body.groups[1] as { runs: { status: string }[] };
    expect(trial0.runs.map((r) => r.status).sort()).toEqual(['stopped', 'succeeded']);
  });
});
