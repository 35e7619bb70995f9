// Runs in `npm run test:faults`, not in CI: catching the "load" phase means polling /proc for a
// file held open for milliseconds, which a busy CI machine missed once in three runs. CI keeps the
// kill -9 mid-run test (test/e2e/worker-crash.e2e.ts).
// kill -9 of a worker in every phase of a run: while loading data, mid-epoch, right after an epoch
// was written (before the training process was told to go on) and while checkpointing. The kill
// lands exactly in its phase, and the test proves it before killing:
// - "metrics": the worker stops itself right after the epoch write (FLEET_FAULT_PAUSE, honoured
//   only with NODE_ENV=test);
// - "load" and "checkpoint": the test freezes the training process (SIGSTOP) while it holds a file
//   open under DATA_ROOT/WEIGHTS_ROOT (reading the dataset or weights) or under ARTIFACTS_DIR
//   (writing the checkpoint), and checks the file is still open once it is frozen;
// - "epoch": frozen once the stream shows batch progress of epoch 2, then checked: epoch 1 stored,
//   epoch 2 not, no checkpoint being written.
// Each victim is then SIGKILLed with its training process (the whole process group, as a crashed
// host or an OOM-killed container would). A healthy worker started afterwards finishes every run:
// each completes once, with exactly one row per epoch and the metrics of a clean run with the same seed.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { comparableMetrics, createExperiment, startE2eFleet, storedEpochs, trainingProcessesGone, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';
import { FAST_STALL, FAULT_WORKER_ARGS, faultExperiment, finalStatusEvents, streamEvents } from './fault-fleet.js';

const EPOCHS = 2;
/** The phases, and the epochs stored when a victim is killed there (undefined: either 0 or 1). */
const PHASES = [
  { phase: 'load', storedAtKill: [] },
  { phase: 'epoch', storedAtKill: [1] },
  { phase: 'metrics', storedAtKill: [1] },
  { phase: 'checkpoint', storedAtKill: undefined },
] as const;
type Phase = (typeof PHASES)[number]['phase'];

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

async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitFor(() => isStopped(pid), { timeoutMs: 5000, intervalMs: 1, what: `process ${pid} to stop` });
}

/**
 * Freezes process `pid` (SIGSTOP) at a moment it holds a file open under one of `dirs`, checked
 * again once the stop took effect. Resolves with that file.
 */
async function freezeWhileHolding(pid: number, dirs: string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const held = (): string[] => dirs.flatMap((dir) => openFilesUnder(pid, dir));
  for (;;) {
    if (held().length > 0) {
      await freeze(pid);
      const open = held();
      if (open.length > 0) return open[0] as string;
      process.kill(pid, 'SIGCONT');
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} opened nothing under ${dirs.join(', ')} within ${timeoutMs} ms`);
    // Polled without a timer delay: reading the weights or writing a checkpoint lasts only milliseconds.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Freezes the training process once the experiment's stream shows a training batch of `epoch`. */
async function freezeMidEpoch(fleet: E2eFleet, pid: number, workerId: string, epoch: number): Promise<void> {
  const row = await waitFor(() => fleet.prisma.experiment.findFirst({ where: { workerId } }), { timeoutMs: 120_000, what: `a job on worker ${workerId}` });
  await waitFor(async () => (await streamEvents(fleet, row.id)).some((e) => e.type === 'progress' && e.epoch === epoch && e.phase === 'train'), {
    timeoutMs: 120_000,
    intervalMs: 10,
    what: `batch progress of epoch ${epoch}`,
  });
  await freeze(pid);
  const stored = await storedEpochs(fleet.prisma, row.id);
  const writing = openFilesUnder(pid, fleet.harness.artifactsDir);
  if (stored.includes(epoch) || writing.length > 0) throw new Error(`froze too late to be mid-epoch ${epoch}: epochs stored ${stored.join(',')}, files open ${writing.join(',')}`);
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
    const victims = await Promise.all(PHASES.map((p) => harness.startWorker({ args: FAULT_WORKER_ARGS, env: { ...FAST_STALL, ...(p.phase === 'metrics' ? { FLEET_FAULT_PAUSE: 'metrics:1' } : {}) } })));
    // Watching starts before the jobs exist: loading begins as soon as a victim takes its job.
    const frozen = victims.map((v, i) => {
      const child = v.trainingPids[0] as number;
      const phase = PHASES[i]?.phase as Phase;
      switch (phase) {
        case 'load':
          return freezeWhileHolding(child, [harness.dataRoot, harness.weightsRoot], 120_000);
        case 'checkpoint':
          return freezeWhileHolding(child, [harness.artifactsDir], 120_000);
        case 'epoch':
          return freezeMidEpoch(fleet, child, v.id, 2);
        case 'metrics':
          return v.process.waitForLine(/fault point metrics:1 reached: pid \d+ stops/, 120_000);
      }
    });
    // One experiment per victim: each worker takes one job (concurrency 1) and is frozen in its phase.
    const ids = await Promise.all(PHASES.map((p) => createExperiment(api, { ...config, name: `killed at ${p.phase}` })));
    await Promise.all(frozen);

    const killedIn = new Map<string, (typeof PHASES)[number]>();
    for (const [i, victim] of victims.entries()) {
      const phase = PHASES[i] as (typeof PHASES)[number];
      const row = await prisma.experiment.findFirstOrThrow({ where: { id: { in: ids }, workerId: victim.id } });
      killedIn.set(row.id, phase);
      const epochsAtKill = await storedEpochs(prisma, row.id);
      if (phase.storedAtKill) expect({ phase: phase.phase, epochs: epochsAtKill }).toEqual({ phase: phase.phase, epochs: [...phase.storedAtKill] });
      expect(row.status).toBe('running');
      // kill -9 of the worker and its training process together, frozen where they stand.
      await victim.process.kill();
      await trainingProcessesGone(victim);
    }
    expect([...killedIn.values()].map((p) => p.phase).sort()).toEqual(PHASES.map((p) => p.phase).sort());

    const clean = await createExperiment(api, { ...config, name: 'clean' });
    const healthy = await harness.startWorker({ args: FAULT_WORKER_ARGS, env: FAST_STALL });
    await waitForStatus(prisma, clean, ['succeeded'], 240_000);
    const reference = await comparableMetrics(prisma, clean);
    expect(reference.map((m) => m.epoch)).toEqual([1, 2]);

    for (const [id, phase] of killedIn) {
      const row = await waitForStatus(prisma, id, ['succeeded'], 240_000);
      const label = `killed at ${phase.phase}`;
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
