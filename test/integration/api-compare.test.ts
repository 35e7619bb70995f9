// GET /api/sweeps/:id/compare on rows seeded through Prisma (sweep + experiments + epoch metrics).
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { mean, sampleStd, welchTTest } from '../../apps/api/src/sweeps/statistics.js';
import { startApi, type ApiTestContext } from './api-app.js';

describe('API compare', () => {
  let ctx: ApiTestContext;
  const sweepId = randomUUID();
  // Best val acc per seed: finetune clearly ahead of scratch; freeze has only two finished runs.
  const best = { finetune: [0.93, 0.95, 0.94], scratch: [0.6, 0.66, 0.63], freeze: [0.92, 0.9] };

  beforeAll(async () => {
    ctx = await startApi();
    await ctx.prisma.sweep.create({ data: { id: sweepId, name: 'compare', base: { dataset: ctx.dataset }, grid: { strategy: Object.keys(best), seed: [0, 1, 2] } } });
    let n = 0;
    for (const [strategy, accs] of Object.entries(best)) {
      for (let seed = 0; seed < 3; seed++) {
        const id = randomUUID();
        const acc = accs[seed];
        await ctx.prisma.experiment.create({
          data: {
            id, sweepId, dataset: ctx.dataset, strategy, weights: strategy === 'scratch' ? null : 'w.pth', gridValues: { strategy, seed },
            lr: 0.001, lrFactor: 0.1, momentum: 0.9, epochs: 2, batchSize: 4, imageSize: 32, seed, stepSize: 7, gamma: 0.1,
            status: acc === undefined ? 'running' : 'succeeded', bestValAcc: acc ?? null, bestEpoch: acc === undefined ? null : 2, epochsDone: acc === undefined ? 1 : 2,
            createdAt: new Date(Date.now() + n++),
          },
        });
        const epochs = acc === undefined ? [1] : [1, 2];
        await ctx.prisma.epochMetric.createMany({
          data: epochs.map((epoch) => ({
            experimentId: id, epoch, trainLoss: 1 / (epoch + seed), trainAcc: 0.5, valLoss: 0.5, valAcc: epoch === 2 ? (acc ?? 0) : (acc ?? 0.5) - 0.1,
            lrs: [0.001], seconds: strategy === 'freeze' ? 1 : 2, imagesPerSec: 10, trainableParams: 1026, backboneDrift: 0, bnStatsDrift: 0,
          })),
        });
      }
    }
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('ranks groups by mean best val acc with sample std, best run, epoch time and Welch p vs the best group', async () => {
    const res = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=strategy`);
    expect(res.status).toBe(200);
    const groups = res.body.groups as { value: string; rank: number; n: number; meanBestValAcc: number; stdBestValAcc: number | null; pValue: number | null; bestRun: { bestValAcc: number; seed: number }; meanEpochSeconds: number; runs: unknown[]; curves: { epochs: number[]; valAccMean: number[]; valAccStd: number[]; n: number[] } }[];
    expect(groups.map((g) => [g.value, g.rank, g.n])).toEqual([
      ['finetune', 1, 3],
      ['freeze', 2, 2],
      ['scratch', 3, 3],
    ]);
    const [finetune, freeze, scratch] = groups;
    expect(finetune!.meanBestValAcc).toBeCloseTo(0.94, 12);
    expect(finetune!.stdBestValAcc).toBeCloseTo(sampleStd(best.finetune), 12);
    expect(finetune!.pValue).toBeNull();
    expect(finetune!.bestRun).toMatchObject({ bestValAcc: 0.95, seed: 1 });
    expect(freeze!.runs).toHaveLength(3);
    expect(freeze!.meanEpochSeconds).toBe(1);
    expect(scratch!.meanBestValAcc).toBeCloseTo(mean(best.scratch), 12);
    expect(scratch!.pValue).toBeCloseTo(welchTTest(best.finetune, best.scratch)!.p, 12);
    expect(scratch!.pValue).toBeLessThan(0.05);
    expect(freeze!.pValue).toBeCloseTo(welchTTest(best.finetune, best.freeze)!.p, 12);
    // Curves: mean and std over the finished runs of each group, per epoch.
    expect(finetune!.curves.epochs).toEqual([1, 2]);
    expect(finetune!.curves.valAccMean[1]).toBeCloseTo(0.94, 12);
    expect(finetune!.curves.valAccStd[1]).toBeCloseTo(sampleStd(best.finetune), 12);
    expect(finetune!.curves.n).toEqual([3, 3]);
    // freeze has n = 2 < 3 and is not significantly behind finetune: both are called out.
    expect(res.body.note).toContain('seed noise');
    expect(res.body.note).toContain('strategy=freeze has n=2 < 3');
  });

  it('groups by any config field and refuses other fields', async () => {
    const bySeed = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=seed`);
    expect(bySeed.status).toBe(200);
    expect(bySeed.body.groups.map((g: { value: number }) => g.value).sort()).toEqual([0, 1, 2]);
    const bad = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=colour`);
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('groupBy');
    expect((await request(ctx.server).get(`/api/sweeps/${randomUUID()}/compare`)).status).toBe(404);
  });
});
