// GET /api/sweeps/:id/compare and GET /api/sweeps/:id against a straightforward computation from
// the stored rows (Experiment and EpochMetric read through Prisma, statistics in plain
// TypeScript): the API's fast path (curve columns kept by triggers, aggregation in SQL) must give
// the same answer, also right after new epochs land and after failed runs are retried.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ExperimentRepository, ExperimentRunRepository, type ExperimentStatus } from '@fleet/persistence';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { mean, sampleStd, welchTTest } from '../../apps/api/src/sweeps/statistics.js';
import { startApi, type ApiTestContext } from './api-app.js';
import { referenceCurves } from './compare-reference-curves.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRATEGIES = ['finetune', 'freeze', 'scratch', 'linear-probe'] as const;
const LRS = [0.01, 0.001];
const SEEDS = [0, 1, 2, 3, 4];

type Field = 'strategy' | 'lr' | 'weights' | 'seed';
type Scalar = string | number | null;

interface RunDto {
  id: string;
  seed: number;
  status: string;
  gridValues: Record<string, unknown>;
  bestValAcc: number | null;
  bestEpoch: number | null;
  meanEpochSeconds: number | null;
}

interface GroupDto {
  rank: number;
  value: Scalar;
  n: number;
  meanBestValAcc: number | null;
  stdBestValAcc: number | null;
  bestRun: RunDto | null;
  meanEpochSeconds: number | null;
  pValue: number | null;
  runs: RunDto[];
  curves: { epochs: number[]; valAccMean: number[]; valAccStd: number[]; trainLossMean: number[]; trainLossStd: number[]; n: number[] };
}

/** Numbers equal to 12 significant digits, everything else exactly. */
function expectSame(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const scale = Math.max(1, Math.abs(expected));
    if (Math.abs(actual - expected) > 1e-12 * scale) throw new Error(`${path}: ${actual} != ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) throw new Error(`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
    expected.forEach((e, i) => expectSame(actual[i], e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') throw new Error(`${path}: ${JSON.stringify(actual)} is not an object`);
    const keys = Object.keys(expected).sort();
    expect({ path, keys: Object.keys(actual).sort() }).toEqual({ path, keys });
    for (const k of keys) expectSame((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect({ path, value: actual }).toEqual({ path, value: expected });
}

describe('API compare and sweep detail vs a reference computed from the rows', () => {
  let ctx: ApiTestContext;
  let runs: ExperimentRunRepository;
  let experiments: ExperimentRepository;
  const sweepId = randomUUID();
  const random = prng(20261201);
  const ids: string[] = [];

  const metrics = (epoch: number): EpochMetrics => ({
    epoch,
    trainLoss: 2 * random() + 0.1,
    trainAcc: random(),
    valLoss: random(),
    valAcc: 0.4 + 0.6 * random(),
    lrs: [0.001],
    seconds: 1 + 9 * random(),
    imagesPerSec: 10,
    trainableParams: 1026,
    backboneDrift: 0,
    bnStatsDrift: 0,
  });

  /** Runs `count` epochs from `from` the way the worker does and leaves the run in `status`. */
  async function train(id: string, from: number, count: number, status: ExperimentStatus): Promise<void> {
    await runs.markRunning(id, { workerId: 'test', backend: 'cpu' });
    for (let e = from; e < from + count; e++) await runs.recordEpoch(id, metrics(e));
    if (status === 'succeeded') await runs.markSucceeded(id);
    else if (status === 'failed') await runs.markFailed(id, 'test failure');
    else if (status === 'cancelled') await runs.markCancelled(id);
    else if (status === 'queued') await runs.markRequeued(id);
  }

  /** What the API should answer, from the rows as stored. */
  async function reference(field: Field): Promise<GroupDto[]> {
    const rows = await ctx.prisma.experiment.findMany({ where: { sweepId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const epochRows = await ctx.prisma.epochMetric.findMany({ where: { experimentId: { in: rows.map((r) => r.id) } }, orderBy: { epoch: 'asc' } });
    const epochsOf = (id: string) => epochRows.filter((m) => m.experimentId === id);
    const toRun = (r: (typeof rows)[number]): RunDto => {
      const own = epochsOf(r.id);
      return {
        id: r.id, seed: r.seed, status: r.status, gridValues: r.gridValues as Record<string, unknown>, bestValAcc: r.bestValAcc, bestEpoch: r.bestEpoch,
        meanEpochSeconds: own.length > 0 ? mean(own.map((m) => m.seconds)) : null,
      };
    };
    const groups = new Map<string, { value: Scalar; rows: typeof rows }>();
    for (const r of rows) {
      const value = r[field];
      const g = groups.get(JSON.stringify(value)) ?? { value, rows: [] };
      g.rows.push(r);
      groups.set(JSON.stringify(value), g);
    }
    const out = [...groups.values()].map((g) => {
      const done = g.rows.filter((r) => r.status === 'succeeded' && r.bestValAcc !== null);
      const accs = done.map((r) => r.bestValAcc!);
      const doneEpochs = done.flatMap((r) => epochsOf(r.id));
      let best: (typeof done)[number] | null = null;
      for (const r of done) if (best === null || r.bestValAcc! > best.bestValAcc!) best = r;
      return {
        accs,
        group: {
          rank: 0,
          value: g.value,
          n: accs.length,
          meanBestValAcc: accs.length > 0 ? mean(accs) : null,
          stdBestValAcc: accs.length >= 2 ? sampleStd(accs) : null,
          bestRun: best ? toRun(best) : null,
          meanEpochSeconds: doneEpochs.length > 0 ? mean(doneEpochs.map((m) => m.seconds)) : null,
          pValue: null as number | null,
          runs: g.rows.map(toRun),
          curves: referenceCurves(doneEpochs),
        },
      };
    });
    out.sort((a, b) => (b.group.meanBestValAcc ?? -Infinity) - (a.group.meanBestValAcc ?? -Infinity) || String(a.group.value).localeCompare(String(b.group.value)));
    return out.map(({ accs, group }, i) => {
      const test = i === 0 ? null : welchTTest(out[0]!.accs, accs);
      return { ...group, rank: i + 1, pValue: test && Number.isFinite(test.p) ? test.p : null };
    });
  }

  async function expectCompareMatchesReference(field: Field): Promise<GroupDto[]> {
    const res = await request(ctx.server).get(`/api/sweeps/${sweepId}/compare?groupBy=${field}`);
    expect(res.status).toBe(200);
    const want = await reference(field);
    expectSame(res.body.groups, want, `groupBy=${field}`);
    return res.body.groups as GroupDto[];
  }

  beforeAll(async () => {
    ctx = await startApi();
    runs = new ExperimentRunRepository(ctx.prisma);
    experiments = new ExperimentRepository(ctx.prisma);
    await ctx.prisma.sweep.create({ data: { id: sweepId, name: 'reference', base: { dataset: ctx.dataset }, grid: { strategy: [...STRATEGIES], lr: LRS, seed: SEEDS } } });
    let n = 0;
    const statuses: ExperimentStatus[] = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'cancelled', 'running', 'queued'];
    for (const strategy of STRATEGIES) {
      for (const lr of LRS) {
        for (const seed of SEEDS) {
          const id = randomUUID();
          ids.push(id);
          await ctx.prisma.experiment.create({
            data: {
              id, sweepId, dataset: ctx.dataset, strategy, weights: strategy === 'scratch' ? null : 'w.pth', gridValues: { strategy, lr, seed },
              lr, lrFactor: 0.1, momentum: 0.9, epochs: 6, batchSize: 4, imageSize: 32, seed, stepSize: 7, gamma: 0.1, createdAt: new Date(Date.now() + n++),
            },
          });
          const status = statuses[Math.floor(random() * statuses.length)]!;
          // Some runs stop early, a few never store an epoch (a succeeded one then has no best val acc).
          const epochs = random() < 0.1 ? 0 : 1 + Math.floor(random() * 6);
          await train(id, 1, epochs, status);
        }
      }
    }
  });
  afterAll(async () => {
    await ctx.close();
  });

  it.each<Field>(['strategy', 'lr', 'weights', 'seed'])('compare grouped by %s equals the reference', async (field) => {
    const groups = await expectCompareMatchesReference(field);
    expect(groups.length).toBeGreaterThan(1);
  });

  it('reflects a new epoch and a finished run at once, and retried runs with their rewritten epochs', async () => {
    const before = await expectCompareMatchesReference('strategy');
    const rows = await ctx.prisma.experiment.findMany({ where: { sweepId }, select: { id: true, status: true, epochsDone: true } });
    const running = rows.find((r) => r.status === 'running');
    const failed = rows.filter((r) => r.status === 'failed' || r.status === 'cancelled');
    expect(running).toBeDefined();
    expect(failed.length).toBeGreaterThan(0);
    // A running run stores its next epoch and succeeds: it must enter the statistics right away.
    await train(running!.id, running!.epochsDone + 1, 1, 'succeeded');
    // The failed and cancelled runs are retried: they replay from epoch 1 with other values.
    await experiments.requeue(failed.map((r) => r.id));
    for (const r of failed) await train(r.id, 1, 3, 'succeeded');
    const after = await expectCompareMatchesReference('strategy');
    expect(after).not.toEqual(before);
    await expectCompareMatchesReference('lr');
  });

  it('sweep detail lists every run as stored, with counts by status', async () => {
    const res = await request(ctx.server).get(`/api/sweeps/${sweepId}`);
    expect(res.status).toBe(200);
    const rows = await ctx.prisma.experiment.findMany({ where: { sweepId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const counts: Record<string, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, stopped: 0 };
    for (const r of rows) counts[r.status]! += 1;
    expect(res.body.counts).toEqual(counts);
    expect(res.body.total).toBe(rows.length);
    const now = Date.now();
    expectSame(
      res.body.runs.map((r: { seconds: number | null }) => ({ ...r, seconds: r.seconds === null ? null : 0 })),
      rows.map((r) => ({
        id: r.id, strategy: r.strategy, gridValues: r.gridValues, status: r.status, epochsDone: r.epochsDone, bestValAcc: r.bestValAcc,
        bestEpoch: r.bestEpoch, finalValAcc: r.finalValAcc, seconds: r.startedAt === null ? null : 0, error: r.error,
      })),
    );
    // Durations: finished runs exactly, running ones "so far" (read a moment before `now`).
    res.body.runs.forEach((r: { seconds: number | null }, i: number) => {
      const row = rows[i]!;
      if (!row.startedAt) return;
      const end = row.finishedAt?.getTime() ?? now;
      if (row.finishedAt) expect(r.seconds).toBeCloseTo((end - row.startedAt.getTime()) / 1000, 9);
      else expect(r.seconds).toBeLessThanOrEqual((end - row.startedAt.getTime()) / 1000);
    });
  });
});
