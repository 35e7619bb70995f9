// kill -9 of the worker training an experiment: the other worker picks the job up once its lock
// expires, resumes from the last checkpoint, and the run ends with each epoch stored once and the
// same metrics as a clean run with the same seed. The killed worker's training process is gone.
import { comparableMetrics, createExperiment, startE2eFleet, storedEpochs, trainingProcessesGone, tinyExperiment, waitForEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

interface WorkerList {
  items: { id: string; pid: number; currentExperimentId: string | null }[];
}

describe('worker killed mid-run', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 2, worker: { env: { WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_HEARTBEAT_MS: '500' } } });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('resumes on the other worker with every epoch once and the metrics of a clean run', async () => {
    const { api, prisma } = fleet;
    const config = tinyExperiment({ epochs: 4, seed: 7, strategy: 'finetune' });
    const crashed = await createExperiment(api, { ...config, name: 'crashed' });
    const clean = await createExperiment(api, { ...config, name: 'clean' });

    await waitForEpochs(prisma, crashed, 1);
    const victim = await waitFor(
      async () => (await api.get<WorkerList>('/api/workers')).items.find((w) => w.currentExperimentId === crashed),
      { what: 'the worker running the experiment in /api/workers' },
    );
    const handle = fleet.workers.find((w) => w.pid === victim.pid);
    if (!handle) throw new Error(`no worker with pid ${victim.pid}`);
    const survivor = fleet.workers.find((w) => w !== handle);
    process.kill(victim.pid, 'SIGKILL');
    await handle.process.exited;
    expect((await prisma.experiment.findUniqueOrThrow({ where: { id: crashed } })).status).toBe('running');

    // The training child notices its parent is gone and exits: nothing keeps training.
    await trainingProcessesGone(handle);

    const [resumed] = await Promise.all([waitForStatus(prisma, crashed, ['succeeded'], 180_000), waitForStatus(prisma, clean, ['succeeded'], 180_000)]);
    expect(resumed.workerId).toBe(survivor?.id);
    expect(resumed.attempts).toBe(2);
    expect(await storedEpochs(prisma, crashed)).toEqual([1, 2, 3, 4]);
    expect(survivor?.process.output).toMatch(/resumed from checkpoint/);

    const [a, b] = await Promise.all([comparableMetrics(prisma, crashed), comparableMetrics(prisma, clean)]);
    expect(a).toHaveLength(4);
    a.forEach((m, i) => {
      const ref = b[i];
      expect(m.epoch).toBe(ref?.epoch);
      for (const key of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'backboneDrift', 'bnStatsDrift'] as const) expect(m[key]).toBeCloseTo(ref?.[key] ?? NaN, 6);
      expect(m.lrs).toEqual(ref?.lrs);
    });
  }, 300_000);
});
