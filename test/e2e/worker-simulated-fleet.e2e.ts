// A small sweep on simulated workers (`--engine simulated`, several per process, as bench:fleet
// runs them) through the built API, with kill -9 of one worker process (a third of the workers)
// mid-sweep: every run succeeds once, every epoch is stored once with exactly the metrics of an
// uninterrupted run, and the killed workers' runs resumed from their checkpoints elsewhere.
import { Redis } from 'ioredis';
import { PrismaService } from '@fleet/persistence';
import { FleetApi } from '../support/fleet-api.js';
import { FAST_STALL, FleetHarness } from '../support/fleet-harness.js';
import { auditSimulatedSweep, SIM_DATASET, startSimulatedWorkers, writeSimDataset, type SimulatedWorkerProcess } from '../support/simulated-fleet.js';
import { waitFor } from '../support/wait-for.js';

const PROCESSES = 3;
const WORKERS_PER_PROCESS = 4;
const EPOCHS = 6;
const SEEDS = Array.from({ length: 16 }, (_, i) => i);
const LRS = [0.001, 0.01, 0.1];

describe('simulated workers', () => {
  let harness: FleetHarness;
  let prisma: PrismaService;
  let redis: Redis;
  let api: FleetApi;
  let processes: SimulatedWorkerProcess[];
  beforeAll(async () => {
    harness = await FleetHarness.create();
    prisma = new PrismaService(harness.databaseUrl, { poolMax: 2 });
    redis = new Redis(harness.redisUrl);
    await writeSimDataset(harness.dataRoot);
    api = new FleetApi((await harness.startApi()).url);
    processes = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) => startSimulatedWorkers(harness, `sim${i + 1}`, { workers: WORKERS_PER_PROCESS, epochMs: 100, env: FAST_STALL })),
    );
  }, 180_000);
  afterAll(async () => {
    await harness?.teardown();
    redis?.disconnect();
    await prisma?.$disconnect();
  });

  it('lose and duplicate nothing through kill -9 of a worker process mid-sweep', async () => {
    const sweep = await api.post<{ id: string; experimentIds: string[] }>('/api/sweeps', {
      name: 'simulated',
      base: { dataset: SIM_DATASET, strategy: 'scratch', epochs: EPOCHS },
      grid: { seed: SEEDS, lr: LRS },
    });
    const total = sweep.experimentIds.length * EPOCHS;
    const stored = () => prisma.epochMetric.count({ where: { experiment: { sweepId: sweep.id } } });
    const [victim, ...survivors] = processes as [SimulatedWorkerProcess, ...SimulatedWorkerProcess[]];
    // Killed once a quarter of the epochs are in AND the victim holds a run with a checkpoint to
    // resume from, well before its end: the sweep's runs start together (idle workers are woken at
    // once), so at a quarter the victim's runs may all still be in their first epoch.
    const victimHasCheckpointedRun = async (): Promise<boolean> =>
      (await prisma.experiment.count({ where: { sweepId: sweep.id, status: 'running', workerId: { in: victim.workerIds }, epochsDone: { gte: 1, lte: EPOCHS - 3 } } })) > 0;
    await waitFor(async () => (await stored()) >= total / 4 && (await victimHasCheckpointedRun()), { timeoutMs: 120_000, intervalMs: 20, what: "a quarter of the sweep's epochs and a victim run past its first epoch" });
    await victim.process.kill();
    // Read after the kill: a dead worker changes nothing, so these are the runs it was training.
    const hit = await prisma.experiment.findMany({ where: { sweepId: sweep.id, status: 'running', workerId: { in: victim.workerIds } }, select: { id: true } });
    expect(hit.length).toBeGreaterThan(0);

    await waitFor(async () => (await prisma.experiment.count({ where: { sweepId: sweep.id, status: 'succeeded' } })) === sweep.experimentIds.length, {
      timeoutMs: 180_000,
      intervalMs: 250,
      what: 'every run to succeed',
    });
    const audit = await auditSimulatedSweep(prisma, redis, harness.queuePrefix, sweep.id);
    expect({ lost: audit.lost, duplicated: audit.duplicated, wrong: audit.wrong, unfinished: audit.unfinished, problems: audit.problems }).toEqual({ lost: 0, duplicated: 0, wrong: 0, unfinished: 0, problems: [] });
    expect(audit.runs).toBe(SEEDS.length * LRS.length);

    // The runs the killed workers held went on elsewhere, from their checkpoints.
    const resumed = await prisma.experiment.findMany({ where: { id: { in: hit.map((r) => r.id) } }, select: { attempts: true, workerId: true } });
    for (const run of resumed) expect(victim.workerIds).not.toContain(run.workerId);
    expect(resumed.every((r) => r.attempts >= 2)).toBe(true);
    expect(survivors.map((p) => p.process.output).join('\n')).toMatch(/resumed from checkpoint after epoch [1-9]/);
  }, 400_000);
});
