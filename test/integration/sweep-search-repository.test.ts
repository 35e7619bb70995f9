// Searched sweeps against the real Postgres: trial hand-out under the sweep's row lock (maxTrials
// exact, at most maxConcurrent cells active, no duplicate trial from concurrent fills) and ASHA
// decisions made once per (trial, rung) even when two reports race.
import { randomUUID } from 'node:crypto';
import type { SweepSearchSpec } from '@fleet/contracts';
import { ExperimentRunRepository, PrismaService, SweepSearchRepository, type FillPlan } from '@fleet/persistence';
import type { ExperimentConfigData } from '@fleet/queue';
import { testDatabaseUrl } from '../test-env.mjs';

const base: ExperimentConfigData = { dataset: 'd', strategy: 'scratch', epochs: 9, batchSize: 4, lr: 0.01, lrFactor: 0.1, momentum: 0.9, weightDecay: 0, stepSize: 7, gamma: 0.1, imageSize: 32, seed: 0 };

const plan: FillPlan = {
  suggest: (index) => ({ lr: 0.001 * (index + 1) }),
  cellConfig: (params, seed) => ({ ...base, lr: params['lr'] as number, seed }),
};

function spec(overrides: Partial<SweepSearchSpec> = {}): SweepSearchSpec {
  return {
    method: 'random',
    parameters: { lr: { distribution: 'uniform', min: 0.001, max: 0.1 } },
    seeds: [0, 1],
    metric: { name: 'valAcc', goal: 'maximize' },
    earlyStop: { type: 'asha', minEpochs: 1, reductionFactor: 3, minRunsAtRung: 1 },
    budget: { maxTrials: 3, maxConcurrent: 4 },
    searchSeed: 0,
    ...overrides,
  };
}

const metric = (epoch: number, valAcc: number) => ({ epoch, trainLoss: 0.5, trainAcc: 0.5, valLoss: 0.5, valAcc, lrs: [0.01], seconds: 1, imagesPerSec: 10, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 });

describe('SweepSearchRepository', () => {
  const prisma = new PrismaService(testDatabaseUrl());
  const sweeps = new SweepSearchRepository(prisma);
  const runs = new ExperimentRunRepository(prisma);
  afterAll(async () => {
    await prisma.$disconnect();
  });

  async function newSweep(s: SweepSearchSpec): Promise<string> {
    const id = randomUUID();
    await sweeps.create({ id, name: null, base: { ...base }, search: s, priority: 0, queuePrefix: 'test-sweep-search-repository' });
    return id;
  }

  it('hands out trials lazily: maxConcurrent cells active, seeds of a trial first, maxTrials exactly, concurrent fills never duplicate', async () => {
    const id = await newSweep(spec({ budget: { maxTrials: 3, maxConcurrent: 3 } }));
    const fills = await Promise.all([sweeps.fill(id, plan), sweeps.fill(id, plan), sweeps.fill(id, plan)]);
    expect(fills.flatMap((f) => f!.created)).toHaveLength(3);
    expect(fills.every((f) => f!.queued.length === 3)).toBe(true);
    let trials = await prisma.sweepTrial.findMany({ where: { sweepId: id }, orderBy: { index: 'asc' }, include: { experiments: true } });
    expect(trials.map((t) => [t.index, t.experiments.map((e) => e.seed).sort()])).toEqual([
      [0, [0, 1]],
      [1, [0]],
    ]);

    // Finish cells one by one: each fill adds exactly as many as ended, until 3 trials x 2 seeds.
    for (let round = 0; round < 10; round++) {
      const active = await prisma.experiment.findMany({ where: { sweepId: id, status: { in: ['queued', 'running'] } }, orderBy: { createdAt: 'asc' } });
      expect(active.length).toBeLessThanOrEqual(3);
      if (active.length === 0) break;
      await runs.markRunning(active[0]!.id, { workerId: 'w', backend: 'cpu' });
      await runs.markSucceeded(active[0]!.id);
      await Promise.all([sweeps.fill(id, plan), sweeps.fill(id, plan)]);
    }
    trials = await prisma.sweepTrial.findMany({ where: { sweepId: id }, orderBy: { index: 'asc' }, include: { experiments: true } });
    expect(trials.map((t) => t.experiments.length)).toEqual([2, 2, 2]);
    expect((await prisma.sweep.findUniqueOrThrow({ where: { id } })).finishedAt).not.toBeNull();
    expect((await sweeps.fill(id, plan))?.created).toEqual([]);
  });

  it('decides a (trial, rung) once when two reports race, and stops the trial with its reason', async () => {
    const id = await newSweep(spec({ budget: { maxTrials: 2, maxConcurrent: 4 } }));
    await sweeps.fill(id, plan);
    const cells = await prisma.experiment.findMany({ where: { sweepId: id }, include: { trial: true }, orderBy: { createdAt: 'asc' } });
    const [a0, a1, b0, b1] = cells;
    for (const c of cells) await runs.markRunning(c.id, { workerId: 'w', backend: 'cpu' });
    // Trial 0 reaches rung 1 first (nothing recorded: continue); trial 1's two cells then race at rung 1.
    // A searched sweep's cell: the worker asks early stopping about its epochs (grid cells skip it).
    expect(await runs.recordEpoch(a0!.id, metric(1, 0.9))).toMatchObject({ searched: true });
    expect(await sweeps.reportEpoch(a0!.id, 1)).toBeNull();
    await runs.recordEpoch(b0!.id, metric(1, 0.2));
    await runs.recordEpoch(b1!.id, metric(1, 0.4));
    const [x, y] = await Promise.all([sweeps.reportEpoch(b0!.id, 1), sweeps.reportEpoch(b1!.id, 1)]);
    const reason = { rung: 1, value: expect.closeTo(0.3, 9) as number, cutoff: expect.closeTo(0.9, 9) as number, compared: 1 };
    expect(x).toEqual(reason);
    expect(y).toEqual(reason);
    const decisions = await prisma.rungDecision.findMany({ where: { sweepId: id }, orderBy: { createdAt: 'asc' } });
    expect(decisions.map((d) => [d.trialId, d.rung, d.decision])).toEqual([
      [a0!.trialId, 1, 'continue'],
      [b0!.trialId, 1, 'stop'],
    ]);
    // Not a rung: nothing decided, but the stop still holds for the trial's later epochs.
    await runs.recordEpoch(b0!.id, metric(2, 0.5));
    expect(await sweeps.reportEpoch(b0!.id, 2)).toEqual(reason);
    expect(await sweeps.reportEpoch(a1!.id, 2)).toBeNull();
    expect(await runs.markStopped(b0!.id, x!)).toBe(true);
    const stopped = await prisma.experiment.findUniqueOrThrow({ where: { id: b0!.id } });
    expect([stopped.status, stopped.stopReason]).toEqual(['stopped', { rung: 1, value: x!.value, cutoff: x!.cutoff, compared: 1 }]);
  });

  it('stops scheduling a cancelled sweep', async () => {
    const id = await newSweep(spec({ budget: { maxTrials: 5, maxConcurrent: 2 } }));
    await sweeps.fill(id, plan);
    const open = await sweeps.cancel(id);
    expect(open).toHaveLength(2);
    for (const cell of open!) await prisma.experiment.update({ where: { id: cell }, data: { status: 'cancelled' } });
    expect(await sweeps.fill(id, plan)).toEqual({ created: [], queued: [], finished: false });
    expect(await sweeps.listActive('test-sweep-search-repository')).not.toContain(id);
  });
});
