// GET /api/sweeps/:id/compare grouped by a numeric field (lr) and by a nullable one (weights):
// the aggregates Postgres computes must equal the same statistics computed here from the raw rows.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { mean, sampleStd, welchTTest } from '../../apps/api/src/sweeps/statistics.js';
import { startApi, type ApiTestContext } from './api-app.js';
import { referenceCurves } from './compare-reference-curves.js';

interface Run {
  lr: number;
  weights: string | null;
  status: 'succeeded' | 'failed';
  best: number | null;
  /** valAcc, trainLoss, seconds per epoch (epoch = index + 1). */
  epochs: [number, number, number][];
}

const RUNS: Run[] = [
  { lr: 0.01, weights: 'w.pth', status: 'succeeded', best: 0.8, epochs: [[0.7, 1.2, 3], [0.8, 0.9, 4]] },
  { lr: 0.01, weights: 'w.pth', status: 'succeeded', best: 0.86, epochs: [[0.75, 1.1, 5], [0.86, 0.7, 6], [0.85, 0.6, 7]] },
  { lr: 0.01, weights: null, status: 'succeeded', best: 0.83, epochs: [[0.72, 1.3, 2], [0.83, 0.8, 2]] },
  { lr: 0.001, weights: null, status: 'succeeded', best: 0.61, epochs: [[0.5, 1.9, 1], [0.61, 1.5, 1.5]] },
  { lr: 0.001, weights: 'w.pth', status: 'succeeded', best: 0.65, epochs: [[0.6, 1.7, 2.5], [0.65, 1.4, 2]] },
  { lr: 0.001, weights: 'w.pth', status: 'failed', best: null, epochs: [[0.1, 3, 9]] },
  { lr: 0.001, weights: null, status: 'succeeded', best: null, epochs: [[0.2, 2.5, 8]] },
];

type Group = {
  value: number | string | null;
  rank: number;
  n: number;
  meanBestValAcc: number | null;
  stdBestValAcc: number | null;
  pValue: number | null;
  meanEpochSeconds: number | null;
  bestRun: { id: string } | null;
  runs: { id: string; meanEpochSeconds: number | null }[];
  curves: { epochs: number[]; valAccMean: number[]; valAccStd: number[]; trainLossMean: number[]; trainLossStd: number[]; n: number[] };
};

describe('API compare by a numeric or nullable field', () => {
  let ctx: ApiTestContext;
  const sweepId = randomUUID();
  const ids = RUNS.map(() => randomUUID());

  beforeAll(async () => {
    ctx = await startApi();
    await ctx.prisma.sweep.create({ data: { id: sweepId, name: 'compare-lr', base: { dataset: ctx.dataset }, grid: { lr: [0.01, 0.001] } } });
    for (const [i, run] of RUNS.entries()) {
      await ctx.prisma.experiment.create({
        data: {
          id: ids[i]!, sweepId, dataset: ctx.dataset, strategy: 'finetune', weights: run.weights, gridValues: { lr: run.lr },
          lr: run.lr, lrFactor: 0.1, momentum: 0.9, epochs: 3, batchSize: 4, imageSize: 32, seed: i, stepSize: 7, gamma: 0.1,
          status: run.status, bestValAcc: run.best, bestEpoch: run.best === null ? null : 2, epochsDone: run.epochs.length,
          createdAt: new Date(Date.now() + i),
        },
      });
      await ctx.prisma.epochMetric.createMany({
        data: run.epochs.map(([valAcc, trainLoss, seconds], e) => ({
          experimentId: ids[i]!, epoch: e + 1, trainLoss, trainAcc: 0.5, valLoss: 0.5, valAcc, lrs: [run.lr], seconds,
          imagesPerSec: 10, trainableParams: 1026, backboneDrift: 0, bnStatsDrift: 0,
        })),
      });
    }
  });
  afterAll(async () => {
    await ctx.close();
  });

  /** The statistics of one group computed from the raw runs, as the API defines them. */
  function expected(members: number[]) {
    const done = members.filter((i) => RUNS[i]!.status === 'succeeded' && RUNS[i]!.best !== null);
    const accs = done.map((i) => RUNS[i]!.best!);
    const points = done.flatMap((i) => RUNS[i]!.epochs.map(([valAcc, trainLoss], e) => ({ epoch: e + 1, valAcc, trainLoss })));
    const seconds = done.flatMap((i) => RUNS[i]!.epochs.map((x) => x[2]));
    return {
      accs,
      n: accs.length,
      meanBestValAcc: mean(accs),
      stdBestValAcc: sampleStd(accs),
      meanEpochSeconds: mean(seconds),
      curves: referenceCurves(points),
    };
  }

  function expectClose(actual: number[], wanted: number[]): void {
    expect(actual).toHaveLength(wanted.length);
    actual.forEach((a, i) => expect(a).toBeCloseTo(wanted[i]!, 12));
  }

  it('groups by lr (a float column) with the same statistics as computed from the rows', async () => {
    const res = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=lr`);
    expect(res.status).toBe(200);
    const groups = res.body.groups as Group[];
    expect(groups.map((g) => [g.value, g.rank])).toEqual([
      [0.01, 1],
      [0.001, 2],
    ]);
    const hi = expected([0, 1, 2]);
    const lo = expected([3, 4, 5, 6]);
    for (const [g, want] of [
      [groups[0]!, hi],
      [groups[1]!, lo],
    ] as const) {
      expect(g.n).toBe(want.n);
      expect(g.meanBestValAcc).toBeCloseTo(want.meanBestValAcc, 12);
      expect(g.stdBestValAcc).toBeCloseTo(want.stdBestValAcc, 12);
      expect(g.meanEpochSeconds).toBeCloseTo(want.meanEpochSeconds, 12);
      expect(g.curves.epochs).toEqual(want.curves.epochs);
      expect(g.curves.n).toEqual(want.curves.n);
      expectClose(g.curves.valAccMean, want.curves.valAccMean);
      expectClose(g.curves.valAccStd, want.curves.valAccStd);
      expectClose(g.curves.trainLossMean, want.curves.trainLossMean);
      expectClose(g.curves.trainLossStd, want.curves.trainLossStd);
    }
    expect(groups[0]!.pValue).toBeNull();
    expect(groups[1]!.pValue).toBeCloseTo(welchTTest(hi.accs, lo.accs)!.p, 12);
    expect(groups[0]!.bestRun?.id).toBe(ids[1]);
    // Every run is listed, the failed ones too, with its own mean epoch time over all its epochs.
    expect(groups[1]!.runs.map((r) => r.id)).toEqual([ids[3], ids[4], ids[5], ids[6]]);
    expect(groups[1]!.runs[2]!.meanEpochSeconds).toBe(9);
    expect(groups[0]!.runs[1]!.meanEpochSeconds).toBeCloseTo(6, 12);
  });

  it('groups by weights, where null is a group of its own', async () => {
    const res = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=weights`);
    expect(res.status).toBe(200);
    const groups = res.body.groups as Group[];
    const byValue = new Map(groups.map((g) => [g.value, g]));
    expect([...byValue.keys()].sort()).toEqual(['w.pth', null].sort());
    const withWeights = expected([0, 1, 4, 5]);
    const without = expected([2, 3, 6]);
    expect(byValue.get('w.pth')!.n).toBe(withWeights.n);
    expect(byValue.get('w.pth')!.meanBestValAcc).toBeCloseTo(withWeights.meanBestValAcc, 12);
    expect(byValue.get(null)!.n).toBe(without.n);
    expect(byValue.get(null)!.stdBestValAcc).toBeCloseTo(without.stdBestValAcc, 12);
    expect(byValue.get(null)!.runs).toHaveLength(3);
  });

  it('refuses a groupBy that is not a config field before it reaches the database', async () => {
    const res = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=${encodeURIComponent('"id"; DROP TABLE "Sweep"')}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('groupBy');
  });
});
