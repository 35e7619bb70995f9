// kill -9 of a worker in every phase of a run: while loading data, mid-epoch, right after an epoch
// was written (before the training process was told to go on) and while checkpointing. The kill
// lands exactly in its phase: three victims stop themselves there (FLEET_FAULT_PAUSE, honoured only
// with NODE_ENV=test); the checkpointing one is frozen (SIGSTOP) by the test while its training
// process holds a file open under ARTIFACTS_DIR. Each victim is then SIGKILLed with its training
// process (the whole process group, as a crashed host or an OOM-killed container would). A healthy
// worker started afterwards finishes every run: each completes once, with exactly one row per
// epoch and the metrics of a clean run with the same seed.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { comparableMetrics, createExperiment, startE2eFleet, storedEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { isAlive } from '../support/managed-process.js';
import { waitFor } from '../support/wait-for.js';
import { FAST_STALL, FAULT_WORKER_ARGS, faultExperiment, finalStatusEvents } from '../faults/fault-fleet.js';

const EPOCHS = 2;
/** FLEET_FAULT_PAUSE of each victim ('checkpoint' is caught from outside), and the epochs stored when it is killed there. */
const PHASES = [
  { pause: 'load', storedAtKill: [] },
  { pause: 'epoch:2', storedAtKill: [1] },
  { pause: 'metrics:1', storedAtKill: [1] },
  { pause: 'checkpoint', storedAtKill: undefined },
] as const;

/** Files under `dir` that process `pid` holds open right now (Linux /proc). */
function openFilesUnder(pid: number, dir: string): string[] {
  const out: string[] = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith(`${dir}/`)) out.push(target);
      } catch {
        // fd closed while we looked
      }
    }
  } catch {
    // process gone
  }
  return out;
}

function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
}

/**
 * Freezes training process `pid` (SIGSTOP) at a moment it is writing a checkpoint: it holds a file
 * open under ARTIFACTS_DIR before and after the stop took effect. Resolves with that file.
 */
async function stopWhileCheckpointing(pid: number, artifactsDir: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (openFilesUnder(pid, artifactsDir).length > 0) {
      process.kill(pid, 'SIGSTOP');
      await waitFor(() => isStopped(pid), { timeoutMs: 5000, intervalMs: 1, what: `training process ${pid} to stop` });
      const open = openFilesUnder(pid, artifactsDir);
      if (open.length > 0) return open[0] as string;
      process.kill(pid, 'SIGCONT');
    }
    if (Date.now() > deadline) throw new Error(`training process ${pid} wrote no checkpoint within ${timeoutMs} ms`);
    // Polled without a timer delay: a checkpoint write lasts only tens of milliseconds.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('kill -9 of a worker in every phase', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 0 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('finishes each run once, one row per epoch, with the metrics of a clean run', async () => {
    const { api, prisma, harness } = fleet;
    const config = faultExperiment({ epochs: EPOCHS, seed: 11, strategy: 'freeze' });
    const victims = await Promise.all(PHASES.map((p) => harness.startWorker({ args: FAULT_WORKER_ARGS, env: { ...FAST_STALL, ...(p.pause === 'checkpoint' ? {} : { FLEET_FAULT_PAUSE: p.pause }) } })));
    // One experiment per victim: each worker takes one job (concurrency 1) and stops in its phase.
    const ids = await Promise.all(PHASES.map((p) => createExperiment(api, { ...config, name: `killed at ${p.pause}` })));
    await Promise.all(
      victims.map((v, i) =>
        PHASES[i]?.pause === 'checkpoint'
          ? stopWhileCheckpointing(v.trainingPids[0] as number, harness.artifactsDir, 120_000)
          : v.process.waitForLine(/fault point \S+ reached: pid \d+ stops/, 120_000),
      ),
    );

    const killedIn = new Map<string, (typeof PHASES)[number]>();
    for (const [i, victim] of victims.entries()) {
      const phase = PHASES[i] as (typeof PHASES)[number];
      const row = await prisma.experiment.findFirstOrThrow({ where: { id: { in: ids }, workerId: victim.id } });
      killedIn.set(row.id, phase);
      const epochsAtKill = await storedEpochs(prisma, row.id);
      if (phase.storedAtKill) expect({ pause: phase.pause, epochs: epochsAtKill }).toEqual({ pause: phase.pause, epochs: [...phase.storedAtKill] });
      expect(row.status).toBe('running');
      // kill -9 of the worker and its training process together, frozen where they stand.
      await victim.process.kill();
      for (const pid of victim.trainingPids) await waitFor(() => !isAlive(pid), { timeoutMs: 10_000, what: `training process ${pid} of the killed worker to be gone` });
    }
    expect([...killedIn.values()].map((p) => p.pause).sort()).toEqual(PHASES.map((p) => p.pause).sort());

    const clean = await createExperiment(api, { ...config, name: 'clean' });
    const healthy = await harness.startWorker({ args: FAULT_WORKER_ARGS, env: FAST_STALL });
    await waitForStatus(prisma, clean, ['succeeded'], 240_000);
    const reference = await comparableMetrics(prisma, clean);
    expect(reference.map((m) => m.epoch)).toEqual([1, 2]);

    for (const [id, phase] of killedIn) {
      const row = await waitForStatus(prisma, id, ['succeeded'], 240_000);
      const label = `killed at ${phase.pause}`;
      expect({ label, workerId: row.workerId, attempts: row.attempts }).toEqual({ label, workerId: healthy.id, attempts: 2 });
      expect({ label, epochs: await storedEpochs(prisma, id) }).toEqual({ label, epochs: [1, 2] });
      expect({ label, finals: await finalStatusEvents(fleet, id) }).toEqual({ label, finals: ['succeeded'] });
      const metrics = await comparableMetrics(prisma, id);
      metrics.forEach((m, e) => {
        const ref = reference[e];
        expect(m.lrs).toEqual(ref?.lrs);
        for (const key of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'backboneDrift', 'bnStatsDrift'] as const) {
          if (Math.abs(m[key] - (ref?.[key] ?? NaN)) > 1e-6) throw new Error(`${label}: epoch ${m.epoch} ${key} ${m[key]} differs from the clean run's ${ref?.[key]}`);
        }
      });
    }
  }, 600_000);
});
