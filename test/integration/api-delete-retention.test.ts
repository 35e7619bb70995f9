// Cleaning up run files: DELETE of an experiment or a sweep removes rows, jobs and files under
// ARTIFACTS_DIR (refused while runs are active), and ARTIFACTS_RETENTION_DAYS removes the files of
// runs finished long enough ago while keeping their metrics (then /model is 410, retry refused).
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { ArtifactRetentionService } from '../../apps/api/src/artifacts/artifact-retention.service.js';
import { startApi, type ApiTestContext } from './api-app.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('deleting runs and sweeps, and the retention of run files', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi({ artifactsRetentionDays: 30 });
  });
  afterAll(async () => {
    await ctx.close();
  });

  /** Gives a run a folder of files under ARTIFACTS_DIR, as a worker would leave. */
  async function leaveFiles(id: string): Promise<string> {
    const dir = path.join(ctx.config.artifactsDir, id);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'model-best.pth'), 'weights');
    await writeFile(path.join(dir, 'latest.ckpt'), 'checkpoint');
    return dir;
  }

  async function finish(id: string, status: 'succeeded' | 'failed', finishedAgoDays: number): Promise<void> {
    await ctx.prisma.experiment.update({ where: { id }, data: { status, epochsDone: 1, bestEpoch: 1, bestValAcc: 0.5, finishedAt: new Date(Date.now() - finishedAgoDays * DAY_MS) } });
  }

  async function submitSweep(seeds: number[]): Promise<{ id: string; experimentIds: string[] }> {
    const res = await request(ctx.server).post('/api/sweeps').send({ name: 'to delete', base: { dataset: ctx.dataset, strategy: 'scratch', epochs: 1 }, grid: { seed: seeds } });
    expect(res.status).toBe(201);
    return res.body as { id: string; experimentIds: string[] };
  }

  it('DELETE /api/experiments/:id removes a finished run, its epochs, its job and its files; 409 while queued; 404 unknown', async () => {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs: 1 });
    const id = created.body.id as string;
    const dir = await leaveFiles(id);

    const refused = await request(ctx.server).delete(`/api/experiments/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('cancel it first');
    expect(existsSync(dir)).toBe(true);

    await finish(id, 'succeeded', 0);
    await ctx.prisma.epochMetric.create({ data: { experimentId: id, epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, lrs: [0.001], seconds: 1, imagesPerSec: 10, trainableParams: 1026, backboneDrift: 0, bnStatsDrift: 0 } });
    const deleted = await request(ctx.server).delete(`/api/experiments/${id}`);
    expect(deleted.status).toBe(204);
    expect(existsSync(dir)).toBe(false);
    expect(await ctx.prisma.experiment.count({ where: { id } })).toBe(0);
    expect(await ctx.prisma.epochMetric.count({ where: { experimentId: id } })).toBe(0);
    expect(await ctx.queue.getJob(id)).toBeUndefined();

    expect((await request(ctx.server).delete(`/api/experiments/${id}`)).status).toBe(404);
    const bad = await request(ctx.server).delete('/api/experiments/not-a-uuid');
    expect(bad.status).toBe(400);
  });

  it('DELETE /api/sweeps/:id refuses while runs are active, then removes every run and its files', async () => {
    const sweep = await submitSweep([0, 1]);
    const dirs = await Promise.all(sweep.experimentIds.map(leaveFiles));
    await finish(sweep.experimentIds[0]!, 'succeeded', 0);

    const refused = await request(ctx.server).delete(`/api/sweeps/${sweep.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('1 runs queued or running');
    expect(dirs.every((d) => existsSync(d))).toBe(true);

    expect((await request(ctx.server).post(`/api/sweeps/${sweep.id}/cancel`)).status).toBe(200);
    const deleted = await request(ctx.server).delete(`/api/sweeps/${sweep.id}`);
    expect(deleted.status).toBe(200);
    expect([...(deleted.body.experimentIds as string[])].sort()).toEqual([...sweep.experimentIds].sort());
    expect(dirs.some((d) => existsSync(d))).toBe(false);
    expect(await ctx.prisma.sweep.count({ where: { id: sweep.id } })).toBe(0);
    expect(await ctx.prisma.experiment.count({ where: { id: { in: sweep.experimentIds } } })).toBe(0);
    expect((await request(ctx.server).get(`/api/sweeps/${sweep.id}`)).status).toBe(404);
    expect((await request(ctx.server).delete(`/api/sweeps/${sweep.id}`)).status).toBe(404);
  });

  it('retention removes the files of runs finished more than ARTIFACTS_RETENTION_DAYS ago, keeps their metrics; /model is 410 and retry refused', async () => {
    const sweep = await submitSweep([0, 1, 2]);
    const [old, oldFailed, recent] = sweep.experimentIds as [string, string, string];
    const dirs = { old: await leaveFiles(old), oldFailed: await leaveFiles(oldFailed), recent: await leaveFiles(recent) };
    await finish(old, 'succeeded', 31);
    await finish(oldFailed, 'failed', 45);
    await finish(recent, 'succeeded', 29);

    const retention = ctx.app.get(ArtifactRetentionService);
    expect(await retention.purgeExpired()).toBeGreaterThanOrEqual(2);
    expect(existsSync(dirs.old)).toBe(false);
    expect(existsSync(dirs.oldFailed)).toBe(false);
    expect(existsSync(dirs.recent)).toBe(true);

    const kept = await request(ctx.server).get(`/api/experiments/${old}`);
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ status: 'succeeded', bestValAcc: 0.5 });
    expect(kept.body.artifactsPurgedAt).toEqual(expect.any(String));
    const gone = await request(ctx.server).get(`/api/experiments/${old}/model`);
    expect(gone.status).toBe(410);
    expect(gone.body.message).toContain('ARTIFACTS_RETENTION_DAYS');
    // (a test folder, not a real model file: 404 "no model file", not 410)
    expect((await request(ctx.server).get(`/api/experiments/${recent}/model`)).status).toBe(404);

    // The failed run's checkpoint is gone: a retry would retrain under stored epochs, so it is skipped.
    const retry = await request(ctx.server).post(`/api/sweeps/${sweep.id}/retry`);
    expect(retry.status).toBe(200);
    expect(retry.body.experimentIds).toEqual([]);
    expect(retry.body.skipped).toEqual([{ id: oldFailed, reason: expect.stringContaining('retention policy') }]);
    expect((await ctx.prisma.experiment.findUniqueOrThrow({ where: { id: oldFailed } })).status).toBe('failed');

    // A second purge finds nothing new (each run is purged once).
    expect(await retention.purgeExpired()).toBe(0);
  });
});
