// Chained runs at the API: weights {experiment, epoch} names a succeeded run whose model is stored.
// Every other parent is a 400 naming weights.experiment (or weights.epoch) with the reason, for
// single experiments and for sweep cells (base.weights..., grid.weights...); nothing is stored
// then. DELETE refuses a parent that queued/running children (or an open search) still need.
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { ExperimentRepository, ParentRunGoneError, SweepRepository } from '@fleet/persistence';
import { applyExperimentDefaults } from '@fleet/queue';
import { writeModelFiles } from '@fleet/training/model-files/model-files.js';
import type { StateDict } from '@fleet/training/weights/pth-loader.js';
import { startApi, type ApiTestContext } from './api-app.js';

const stateDict: StateDict = new Map([['fc.weight', { shape: [2, 1], dtype: 'float32', data: new Float32Array(2) }]]);

describe('API chained runs', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi();
  });
  afterAll(async () => {
    await ctx.close();
  });

  /** A single run in `status`; with `models`, the model files it would have left. */
  async function run(status: 'queued' | 'running' | 'failed' | 'succeeded', models: ('best' | 'final')[] = []): Promise<string> {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs: 2 });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await ctx.prisma.experiment.update({ where: { id }, data: { status, epochsDone: 2, bestEpoch: 1, bestValAcc: 0.5 } });
    if (models.length > 0) await writeModelFiles(path.join(ctx.config.artifactsDir, id), models, stateDict, ['a', 'b']);
    return id;
  }

  const child = (weights: unknown) => ({ dataset: ctx.dataset, strategy: 'finetune', epochs: 1, weights });

  it('stores and enqueues a child of a succeeded run, epoch best by default', async () => {
    const parent = await run('succeeded', ['best', 'final']);
    const res = await request(ctx.server).post('/api/experiments').send(child({ experiment: parent }));
    expect(res.status).toBe(201);
    expect(res.body.config.weights).toEqual({ experiment: parent, epoch: 'best' });
    expect(res.body.parent).toEqual({ experimentId: parent, epoch: 'best' });
    expect(await ctx.prisma.experiment.findUniqueOrThrow({ where: { id: res.body.id as string } })).toMatchObject({ weights: null, parentExperimentId: parent, parentEpoch: 'best' });
    const job = await ctx.queue.getJob(res.body.id as string);
    expect(job?.data.config.weights).toEqual({ experiment: parent, epoch: 'best' });

    const final = await request(ctx.server).post('/api/experiments').send(child({ experiment: parent, epoch: 'final' }));
    expect(final.status).toBe(201);
    const shown = await request(ctx.server).get(`/api/experiments/${final.body.id as string}`);
    expect(shown.body.parent).toEqual({ experimentId: parent, epoch: 'final' });
    // Plain runs say they have no parent.
    expect((await request(ctx.server).get(`/api/experiments/${parent}`)).body.parent).toBeNull();
  });

  it('400 naming weights.experiment / weights.epoch for every parent it cannot start from', async () => {
    const succeeded = await run('succeeded', ['best']);
    const cases: [string, unknown, string, RegExp][] = [
      ['unknown id', { experiment: randomUUID() }, 'weights.experiment', /^weights\.experiment: no experiment [0-9a-f-]{36}$/],
      ['queued', { experiment: await run('queued') }, 'weights.experiment', /is queued; only a succeeded run's model can be started from/],
      ['running', { experiment: await run('running') }, 'weights.experiment', /is running; only a succeeded run's model/],
      ['failed', { experiment: await run('failed', ['best']) }, 'weights.experiment', /is failed; only a succeeded run's model/],
      // No owner or tenant in this API: a run is foreign when the fleet no longer holds its model.
      ['foreign (model files gone)', { experiment: await run('succeeded') }, 'weights.experiment', /has no best model under ARTIFACTS_DIR any more/],
      ['foreign (that epoch gone)', { experiment: succeeded, epoch: 'final' }, 'weights.experiment', /has no final model under ARTIFACTS_DIR any more/],
      ['bad epoch', { experiment: succeeded, epoch: 'last' }, 'weights.epoch', /^weights\.epoch must be one of best, final$/],
      ['not an id', { experiment: '../etc' }, 'weights.experiment', /must be an experiment id \(a UUID\)/],
      ['no id', { epoch: 'best' }, 'weights.experiment', /weights\.experiment is required/],
      ['unknown key', { experiment: succeeded, path: '/etc/passwd' }, 'weights.path', /weights\.path should not exist/],
    ];
    const before = await ctx.countExperiments();
    const jobsBefore = await ctx.countJobs();
    for (const [name, weights, field, reason] of cases) {
      const res = await request(ctx.server).post('/api/experiments').send(child(weights));
      expect({ name, status: res.status, field: res.body.field }).toEqual({ name, status: 400, field });
      expect(res.body.message).toMatch(reason);
    }
    expect(await ctx.countExperiments()).toBe(before);
    expect(await ctx.countJobs()).toBe(jobsBefore);
  });

  it('sweeps: base and grid cells take the object form; problems name base.weights... or grid.weights...', async () => {
    const parent = await run('succeeded', ['best', 'final']);
    const ok = await request(ctx.server)
      .post('/api/sweeps')
      .send({ base: { dataset: ctx.dataset, epochs: 1, weights: { experiment: parent } }, grid: { strategy: ['finetune', 'scratch'] } });
    expect(ok.status).toBe(201);
    const cells = await ctx.prisma.experiment.findMany({ where: { sweepId: ok.body.id as string } });
    expect(cells.map((c) => [c.parentExperimentId, c.parentEpoch])).toEqual([[parent, 'best'], [parent, 'best']]);

    const inGrid = await request(ctx.server)
      .post('/api/sweeps')
      .send({ base: { dataset: ctx.dataset, epochs: 1, strategy: 'finetune' }, grid: { weights: [ctx.weights, { experiment: parent, epoch: 'final' }] } });
    expect(inGrid.status).toBe(201);
    const gridCells = await ctx.prisma.experiment.findMany({ where: { sweepId: inGrid.body.id as string }, orderBy: { createdAt: 'asc' } });
    expect(gridCells.map((c) => [c.weights, c.parentExperimentId, c.parentEpoch, c.name])).toEqual([
      [ctx.weights, null, null, `weights=${ctx.weights}`],
      [null, parent, 'final', `weights=${parent}:final`],
    ]);

    const bad: [unknown, string, RegExp][] = [
      [{ base: { dataset: ctx.dataset, strategy: 'finetune', weights: { experiment: randomUUID() } }, grid: { seed: [0, 1] } }, 'base.weights.experiment', /no experiment/],
      [{ base: { dataset: ctx.dataset, strategy: 'finetune', weights: { experiment: parent, epoch: 'last' } }, grid: { seed: [0, 1] } }, 'base.weights.epoch', /best, final/],
      [{ base: { dataset: ctx.dataset, strategy: 'finetune' }, grid: { weights: [{ experiment: parent }, { experiment: await run('queued') }] } }, 'grid.weights.experiment', /is queued/],
      [{ base: { dataset: ctx.dataset, strategy: 'finetune' }, grid: { weights: [{ experiment: parent }, { experiment: 'x' }] } }, 'grid.weights.experiment', /a UUID\) \(run #2: weights=x:best\)/],
      [{ base: { dataset: ctx.dataset, strategy: 'finetune' }, grid: { weights: [[parent]] } }, 'grid.weights', /must be a string or a number/],
      [{ base: { dataset: ctx.dataset, strategy: 'finetune', weights: { experiment: await run('succeeded') } }, method: 'random', parameters: { lr: { values: [0.1, 0.01] } } }, 'base.weights.experiment', /has no best model/],
    ];
    // Compared by weights, a parent's model is a group of its own, named as the CLI writes it.
    const compared = await request(ctx.server).get(`/api/sweeps/${inGrid.body.id as string}/compare?groupBy=weights`);
    expect(compared.status).toBe(200);
    expect((compared.body.groups as { value: string }[]).map((g) => g.value).sort()).toEqual([`${parent}:final`, ctx.weights].sort());

    const before = await ctx.countExperiments();
    for (const [body, field, reason] of bad) {
      const res = await request(ctx.server).post('/api/sweeps').send(body as object);
      expect({ status: res.status, field: res.body.field }).toEqual({ status: 400, field });
      expect(res.body.message).toMatch(reason);
    }
    expect(await ctx.countExperiments()).toBe(before);
  });

  it('a searched sweep hands out cells that start from base.weights', async () => {
    const parent = await run('succeeded', ['best']);
    const res = await request(ctx.server)
      .post('/api/sweeps')
      .send({ base: { dataset: ctx.dataset, strategy: 'finetune', epochs: 1, weights: { experiment: parent } }, method: 'random', parameters: { lr: { values: [0.1, 0.01] } }, budget: { maxTrials: 2, maxConcurrent: 2 } });
    expect(res.status).toBe(201);
    const cells = await ctx.prisma.experiment.findMany({ where: { sweepId: res.body.id as string } });
    expect(cells).toHaveLength(2);
    for (const c of cells) expect(c).toMatchObject({ parentExperimentId: parent, parentEpoch: 'best' });
  });

  it('DELETE: 409 while anything still needs the run, else removes row and files; finished children keep theirs', async () => {
    const parent = await run('succeeded', ['best']);
    const kid = (await request(ctx.server).post('/api/experiments').send(child({ experiment: parent }))).body.id as string;
    const refused = await request(ctx.server).delete(`/api/experiments/${parent}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(`parent of queued or running chained runs (${kid})`);

    await ctx.prisma.experiment.update({ where: { id: kid }, data: { status: 'running' } });
    expect((await request(ctx.server).delete(`/api/experiments/${parent}`)).status).toBe(409);
    await ctx.prisma.experiment.update({ where: { id: kid }, data: { status: 'succeeded' } });

    // A searched sweep still handing out cells from it holds it too.
    const search = await request(ctx.server)
      .post('/api/sweeps')
      .send({ base: { dataset: ctx.dataset, strategy: 'finetune', epochs: 1, weights: { experiment: parent } }, method: 'random', parameters: { lr: { values: [0.1, 0.01] } }, budget: { maxTrials: 2, maxConcurrent: 1 } });
    expect(search.status).toBe(201);
    await ctx.prisma.experiment.updateMany({ where: { sweepId: search.body.id as string }, data: { status: 'succeeded' } });
    const bySearch = await request(ctx.server).delete(`/api/experiments/${parent}`);
    expect(bySearch.status).toBe(409);
    expect(bySearch.body.message).toContain(`searched sweeps still scheduling runs (${search.body.id as string})`);
    expect((await request(ctx.server).post(`/api/sweeps/${search.body.id as string}/cancel`)).status).toBe(200);

    const deleted = await request(ctx.server).delete(`/api/experiments/${parent}`);
    expect(deleted.status).toBe(204);
    expect(await ctx.prisma.experiment.count({ where: { id: parent } })).toBe(0);
    await expect(access(path.join(ctx.config.artifactsDir, parent))).rejects.toThrow();
    expect((await request(ctx.server).get(`/api/experiments/${kid}`)).body).toMatchObject({ status: 'succeeded', parent: { experimentId: null, epoch: 'best' } });
    expect((await request(ctx.server).delete(`/api/experiments/${parent}`)).status).toBe(404);
  });

  it('a parent deleted between the check and the insert: nothing stored, ParentRunGoneError (the API answers 400)', async () => {
    const repo = new ExperimentRepository(ctx.prisma);
    const sweeps = new SweepRepository(ctx.prisma);
    const config = applyExperimentDefaults({ dataset: ctx.dataset, strategy: 'finetune' as const, weights: { experiment: randomUUID(), epoch: 'best' as const } });
    await expect(repo.create({ id: randomUUID(), config, priority: 0 })).rejects.toBeInstanceOf(ParentRunGoneError);
    const sweepId = randomUUID();
    await expect(sweeps.createWithExperiments({ id: sweepId, name: null, base: {}, grid: {} }, [{ id: randomUUID(), config, priority: 0 }])).rejects.toBeInstanceOf(ParentRunGoneError);
    expect(await ctx.prisma.sweep.count({ where: { id: sweepId } })).toBe(0);
  });

  it("a sweep's retry skips chained runs whose parent was deleted, saying why", async () => {
    const parent = await run('succeeded', ['best']);
    const sweep = await request(ctx.server).post('/api/sweeps').send({ base: { dataset: ctx.dataset, strategy: 'finetune', epochs: 1, weights: { experiment: parent } }, grid: { seed: [0] } });
    const cell = (sweep.body.experimentIds as string[])[0]!;
    expect((await request(ctx.server).delete(`/api/experiments/${parent}`)).status).toBe(409);
    await ctx.prisma.experiment.update({ where: { id: cell }, data: { status: 'failed' } });
    expect((await request(ctx.server).delete(`/api/experiments/${parent}`)).status).toBe(204);
    const retried = await request(ctx.server).post(`/api/sweeps/${sweep.body.id as string}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ experimentIds: [], skipped: [{ id: cell, reason: 'it started from a run that was deleted since; submit it again from another parent' }] });
    expect(await ctx.prisma.experiment.findUniqueOrThrow({ where: { id: cell } })).toMatchObject({ status: 'failed', parentExperimentId: null, parentEpoch: 'best' });
  });

  it('DELETE of a sweep: 409 while its runs are parents of queued chained runs or of an open search', async () => {
    const sweep = await request(ctx.server).post('/api/sweeps').send({ base: { dataset: ctx.dataset, strategy: 'scratch', epochs: 1 }, grid: { seed: [0] } });
    const cell = (sweep.body.experimentIds as string[])[0]!;
    await ctx.prisma.experiment.update({ where: { id: cell }, data: { status: 'succeeded', bestEpoch: 1, epochsDone: 1 } });
    await writeModelFiles(path.join(ctx.config.artifactsDir, cell), ['best'], stateDict, ['a', 'b']);

    const created = await request(ctx.server).post('/api/experiments').send(child({ experiment: cell }));
    expect(created.body).toMatchObject({ status: 'queued' });
    const kid = created.body.id as string;
    const byChild = await request(ctx.server).delete(`/api/sweeps/${sweep.body.id as string}`);
    expect(byChild.status).toBe(409);
    expect(byChild.body.message).toContain(`parents of queued or running chained runs (${kid})`);
    await ctx.prisma.experiment.update({ where: { id: kid }, data: { status: 'succeeded' } });

    const search = await request(ctx.server)
      .post('/api/sweeps')
      .send({ base: { dataset: ctx.dataset, strategy: 'finetune', epochs: 1, weights: { experiment: cell } }, method: 'random', parameters: { lr: { values: [0.1, 0.01] } }, budget: { maxTrials: 2, maxConcurrent: 1 } });
    expect(search.status).toBe(201);
    await ctx.prisma.experiment.updateMany({ where: { sweepId: search.body.id as string }, data: { status: 'succeeded' } });
    const bySearch = await request(ctx.server).delete(`/api/sweeps/${sweep.body.id as string}`);
    expect(bySearch.status).toBe(409);
    expect(bySearch.body.message).toContain(`searched sweeps still scheduling runs (${search.body.id as string})`);

    expect((await request(ctx.server).post(`/api/sweeps/${search.body.id as string}/cancel`)).status).toBe(200);
    expect((await request(ctx.server).delete(`/api/sweeps/${sweep.body.id as string}`)).status).toBe(200);
    expect((await request(ctx.server).get(`/api/experiments/${kid}`)).body.parent).toEqual({ experimentId: null, epoch: 'best' });
  });

  it('DELETE: 409 for a queued run and for a run of a sweep', async () => {
    const queued = await run('queued');
    const active = await request(ctx.server).delete(`/api/experiments/${queued}`);
    expect(active.status).toBe(409);
    expect(active.body.message).toContain('is queued: cancel it first');
    const sweep = await request(ctx.server).post('/api/sweeps').send({ base: { dataset: ctx.dataset, strategy: 'scratch', epochs: 1 }, grid: { seed: [0] } });
    const cell = (sweep.body.experimentIds as string[])[0]!;
    await ctx.prisma.experiment.update({ where: { id: cell }, data: { status: 'succeeded' } });
    const ofSweep = await request(ctx.server).delete(`/api/experiments/${cell}`);
    expect(ofSweep.status).toBe(409);
    expect(ofSweep.body.message).toContain(`is a run of sweep ${sweep.body.id as string}`);
  });
});
