// Release check (npm run test:faults), too slow for CI: a sweep trained through a storm of kill -9s.
// Each time another epoch lands anywhere, a busy worker is SIGKILLed with its training process and
// a fresh worker replaces it, eight times over, hitting each run at most twice (a run may stall up to
// 5 times, see apps/worker/src/fleet-worker.ts). Every run must still succeed exactly once, with
// each epoch stored once and the metrics of the same sweep trained afterwards without faults.
import type { WorkerHandle } from '../support/fleet-harness.js';
import { comparableMetrics, storedEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';
import { FAST_STALL, FAULT_WORKER_ARGS, faultExperiment, finalStatusEvents, startFaultFleet } from './fault-fleet.js';

const KILLS = 8;
const SEEDS = [1, 2, 3, 4, 5, 6];
const EPOCHS = 3;
const worker = { args: FAULT_WORKER_ARGS, env: FAST_STALL };

describe('crash storm', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startFaultFleet({ workers: 2, worker });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('finishes every run of a sweep once through repeated kill -9s', async () => {
    const { api, prisma, harness } = fleet;
    const sweep = { base: faultExperiment({ epochs: EPOCHS }), grid: { seed: SEEDS } };
    const stormy = await api.post<{ experimentIds: string[] }>('/api/sweeps', { name: 'storm', ...sweep });
    const alive: WorkerHandle[] = [...fleet.workers];
    const epochCount = () => prisma.epochMetric.count({ where: { experimentId: { in: stormy.experimentIds } } });

    const hits = new Map<string, number>();
    let kills = 0;
    let seen = 0;
    while (kills < KILLS) {
      const before = seen;
      seen = await waitFor(async () => {
        const n = await epochCount();
        return n > before ? n : undefined;
      }, { timeoutMs: 240_000, what: `epoch ${before + 1} of the sweep` });
      if (seen >= stormy.experimentIds.length * EPOCHS) break;
      const busy = await prisma.worker.findMany({ where: { id: { in: alive.map((w) => w.id) }, currentExperimentId: { in: stormy.experimentIds } } });
      const target = busy.find((w) => (hits.get(w.currentExperimentId ?? '') ?? 0) < 2);
      const victim = alive.find((w) => w.id === target?.id);
      if (!victim || !target?.currentExperimentId) continue;
      hits.set(target.currentExperimentId, (hits.get(target.currentExperimentId) ?? 0) + 1);
      await victim.process.kill();
      alive.splice(alive.indexOf(victim), 1);
      alive.push(await harness.startWorker(worker));
      kills++;
    }
    for (const id of stormy.experimentIds) await waitForStatus(prisma, id, ['succeeded'], 300_000);

    const calm = await api.post<{ experimentIds: string[] }>('/api/sweeps', { name: 'calm', ...sweep });
    for (const id of calm.experimentIds) await waitForStatus(prisma, id, ['succeeded'], 300_000);

    const epochs = Array.from({ length: EPOCHS }, (_, i) => i + 1);
    for (const [i, id] of stormy.experimentIds.entries()) {
      const label = `seed ${SEEDS[i]}`;
      expect({ label, epochs: await storedEpochs(prisma, id), finals: await finalStatusEvents(fleet, id) }).toEqual({ label, epochs, finals: ['succeeded'] });
      const [a, b] = await Promise.all([comparableMetrics(prisma, id), comparableMetrics(prisma, calm.experimentIds[i] as string)]);
      a.forEach((m, e) => {
        for (const key of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'backboneDrift', 'bnStatsDrift'] as const) {
          if (Math.abs(m[key] - (b[e]?.[key] ?? NaN)) > 1e-6) throw new Error(`${label}: epoch ${m.epoch} ${key} ${m[key]} differs from the calm run's ${b[e]?.[key]}`);
        }
      });
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS / 2);
  }, 900_000);
});
