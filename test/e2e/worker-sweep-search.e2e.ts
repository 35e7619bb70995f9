// A random search with ASHA on two real workers (real API, Redis, Postgres, generated data): the
// scheduler never has more than maxConcurrent cells queued or running, some trials are stopped at
// a rung and keep exactly their epochs up to it, the rest run to the end, and best-so-far is the
// best finished trial. One worker is killed with SIGKILL mid-sweep: its cell resumes on the other
// worker, every epoch is stored once and no trial is handed out twice.
import type { SweepSearchView } from '@fleet/contracts';
import { startE2eFleet, storedEpochs, TEST_WEIGHTS, TINY_DATASET, type E2eFleet } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

const EPOCHS = 9;
const MAX_TRIALS = 8;
const MAX_CONCURRENT = 2;

interface WorkerList {
  items: { id: string; pid: number; currentExperimentId: string | null }[];
}

describe('searched sweep with ASHA on two workers', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 2, worker: { env: { WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_HEARTBEAT_MS: '500' } } });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('stops losers at rungs, finishes the rest, keeps every epoch once through a kill -9', async () => {
    const { api, prisma } = fleet;
    const sweep = await api.post<{ id: string; count: number }>('/api/sweeps', {
      name: 'e2e search',
      base: { dataset: TINY_DATASET, weights: TEST_WEIGHTS, strategy: 'finetune', epochs: EPOCHS, batchSize: 4, imageSize: 32 },
      method: 'random',
      parameters: { lr: { distribution: 'log_uniform', min: 1e-4, max: 0.5 }, momentum: { distribution: 'uniform', min: 0, max: 0.95 } },
      // valLoss is continuous; the tiny set's val accuracy comes in steps of 0.25 and ties a lot.
      metric: { name: 'valLoss', goal: 'minimize' },
      earlyStop: { type: 'asha', minEpochs: 1, reductionFactor: 3, minRunsAtRung: 2 },
      budget: { maxTrials: MAX_TRIALS, maxConcurrent: MAX_CONCURRENT },
      searchSeed: 3,
    });
    expect(sweep.count).toBe(MAX_CONCURRENT);

    let killedCell: string | undefined;
    let maxActive = 0;
    const done = await waitFor(
      async () => {
        const active = await prisma.experiment.count({ where: { sweepId: sweep.id, status: { in: ['queued', 'running'] } } });
        maxActive = Math.max(maxActive, active);
        if (!killedCell) {
          // Kill the worker of a cell between rungs (past rung 1, before rung 3), so it certainly trains on after the kill.
          const running = await prisma.experiment.findFirst({ where: { sweepId: sweep.id, status: 'running', epochsDone: 2 } });
          const victim = running && (await api.get<WorkerList>('/api/workers')).items.find((w) => w.currentExperimentId === running.id);
          const handle = victim && fleet.workers.find((w) => w.pid === victim.pid);
          if (handle) {
            process.kill(handle.pid, 'SIGKILL');
            await handle.process.exited;
            killedCell = running.id;
          }
        }
        const view = (await api.get<{ search: SweepSearchView }>(`/api/sweeps/${sweep.id}`)).search;
        const bad = view.trials.find((t) => t.status === 'failed' || t.status === 'cancelled');
        if (bad) throw new Error(`trial ${bad.index} ${bad.status}`);
        return view.state === 'finished' ? view : undefined;
      },
      { timeoutMs: 540_000, intervalMs: 200, what: 'the searched sweep to finish' },
    );
    expect(maxActive).toBeLessThanOrEqual(MAX_CONCURRENT);
    // The killed worker's cell was taken over by the survivor, from its checkpoint.
    const resumed = await prisma.experiment.findUniqueOrThrow({ where: { id: killedCell! } });
    expect(resumed.attempts).toBe(2);
    expect(resumed.epochsDone).toBeGreaterThanOrEqual(3);
    expect(resumed.workerId).toBe(fleet.workers.find((w) => w.process.running)?.id);

    // maxTrials exactly, each handed out once, one cell each (seeds: [0]).
    const trials = await prisma.sweepTrial.findMany({ where: { sweepId: sweep.id }, include: { experiments: true }, orderBy: { index: 'asc' } });
    expect(trials.map((t) => t.index)).toEqual(Array.from({ length: MAX_TRIALS }, (_, i) => i));
    expect(trials.map((t) => t.experiments.length)).toEqual(Array(MAX_TRIALS).fill(1));
    expect(done.trialsCreated).toBe(MAX_TRIALS);

    const cells = trials.map((t) => t.experiments[0]!);
    const stopped = cells.filter((c) => c.status === 'stopped');
    const succeeded = cells.filter((c) => c.status === 'succeeded');
    expect(stopped.length).toBeGreaterThan(0);
    expect(succeeded.length).toBeGreaterThan(0);
    expect(stopped.length + succeeded.length).toBe(MAX_TRIALS);
    for (const c of cells) {
      // Every epoch exactly once: 1..epochsDone, no gaps, no duplicates.
      expect(await storedEpochs(prisma, c.id)).toEqual(Array.from({ length: c.epochsDone }, (_, i) => i + 1));
      if (c.status === 'succeeded') expect(c.epochsDone).toBe(EPOCHS);
      else {
        // Stopped right after reporting the rung epoch: it trained nothing past it.
        const reason = c.stopReason as { rung: number; value: number; cutoff: number; compared: number };
        expect([1, 3]).toContain(reason.rung);
        expect(c.epochsDone).toBe(reason.rung);
        expect(reason.value).toBeGreaterThan(reason.cutoff);
        expect(reason.compared).toBeGreaterThanOrEqual(2);
      }
    }
    expect(done.trialCounts).toMatchObject({ stopped: stopped.length, succeeded: succeeded.length, failed: 0, cancelled: 0 });
    expect(done.gpuEpochs.full).toBe(MAX_TRIALS * EPOCHS);
    expect(done.gpuEpochs.used).toBe(cells.reduce((n, c) => n + c.epochsDone, 0));
    expect(done.gpuEpochs.used).toBeLessThan(done.gpuEpochs.full);

    // Best-so-far is the finished trial with the lowest val loss.
    const bests = await Promise.all(
      succeeded.map(async (c) => ({ trial: trials.find((t) => t.id === c.trialId)!.index, loss: (await prisma.epochMetric.aggregate({ where: { experimentId: c.id }, _min: { valLoss: true } }))._min.valLoss! })),
    );
    const best = bests.reduce((a, b) => (b.loss < a.loss ? b : a));
    expect(done.best).toMatchObject({ trial: best.trial, finished: true });
    expect(done.best?.value).toBeCloseTo(best.loss, 9);
    expect(done.rungs.map((r) => r.rung)).toEqual([1, 3]);
    expect(done.rungs.reduce((n, r) => n + r.stopped, 0)).toBe(stopped.length);
  }, 600_000);
});
