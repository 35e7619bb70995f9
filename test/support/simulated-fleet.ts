// Simulated workers (`--engine simulated`) for the scale e2e test and bench:fleet: start a worker
// process running N of them, and audit a finished sweep against what the simulated engine must
// have stored: every run succeeded exactly once, each of its epochs stored once, with exactly the
// metrics of an uninterrupted run (so an epoch resumed from a checkpoint after a kill -9 counts as
// wrong if it differs by a bit).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { PrismaService } from '@fleet/persistence';
import { eventStreamKey, type ExperimentEvent } from '@fleet/queue';
import type { Strategy } from '@fleet/training/contracts.js';
import { expectedSimulatedMetrics, type SimulatedMetrics } from '../../apps/worker/src/simulated-engine.js';
import { WORKER_ENTRY, type FleetHarness } from './fleet-harness.js';
import type { ManagedProcess } from './managed-process.js';

/** Dataset name of simulated runs: two empty class folders (the simulated engine reads only their names). */
export const SIM_DATASET = 'sim';
const SIM_CLASSES = ['ants', 'bees'];

export async function writeSimDataset(dataRoot: string): Promise<void> {
  for (const split of ['train', 'val']) for (const c of SIM_CLASSES) await mkdir(path.join(dataRoot, SIM_DATASET, split, c), { recursive: true });
}

export interface SimulatedWorkersOptions {
  /** Simulated workers in the process. */
  workers: number;
  epochMs: number;
  /** --sim-stats folder. Default: none */
  statsDir?: string;
  env?: Record<string, string>;
  /** Node flags before the entry point, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. Default none */
  nodeFlags?: string[];
  readyTimeoutMs?: number;
}

export interface SimulatedWorkerProcess {
  process: ManagedProcess;
  /** Worker ids (Worker table, status events) of its simulated workers. */
  workerIds: string[];
}

/** Starts one worker process with `workers` simulated workers and waits until all take jobs. */
export async function startSimulatedWorkers(harness: FleetHarness, label: string, options: SimulatedWorkersOptions): Promise<SimulatedWorkerProcess> {
  const args = [...(options.nodeFlags ?? []), WORKER_ENTRY, '--engine', 'simulated', '--sim-workers', String(options.workers), '--sim-epoch-ms', String(options.epochMs), ...(options.statsDir ? ['--sim-stats', options.statsDir] : [])];
  const proc = harness.spawn(label, args, options.env ?? {});
  await proc.waitForLine(/^\S+ \d+ simulated workers ready/, options.readyTimeoutMs ?? 120_000);
  const workerIds = proc.lines.flatMap((line) => /worker (\S+) ready \(backend simulated/.exec(line)?.[1] ?? []);
  if (workerIds.length !== options.workers) throw new Error(`${label}: ${workerIds.length} ready lines for ${options.workers} workers`);
  return { process: proc, workerIds };
}

/** One entry of an experiment's event stream, with the Redis time it was added at. */
export interface TimedEvent {
  at: number;
  event: ExperimentEvent;
}

export interface SweepAudit {
  runs: number;
  /** (run, epoch) pairs with no stored row. */
  lost: number;
  /** Rows beyond one per (run, epoch), rows past the last epoch, and runs completed more than once. */
  duplicated: number;
  /** Stored epochs whose metrics differ from the uninterrupted run's. */
  wrong: number;
  /** Runs not `succeeded`. */
  unfinished: number;
  /** Epoch events beyond one per epoch: epochs replayed from a checkpoint or trained again after a kill. */
  reReported: number;
  /** The first few problems, for a failure message. */
  problems: string[];
  /** Every run's event stream (bench:fleet derives its latencies from it). */
  events: Map<string, TimedEvent[]>;
}

const COMPARED = ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'trainableParams', 'backboneDrift', 'bnStatsDrift'] as const;

export async function readEvents(redis: Redis, prefix: string, ids: readonly string[]): Promise<Map<string, TimedEvent[]>> {
  const events = new Map<string, TimedEvent[]>();
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const pipeline = redis.pipeline();
    for (const id of chunk) pipeline.xrange(eventStreamKey(prefix, id), '-', '+');
    const results = (await pipeline.exec()) ?? [];
    chunk.forEach((id, j) => {
      const [err, entries] = results[j] ?? [new Error('no reply'), null];
      if (err) throw err;
      events.set(
        id,
        (entries as [string, string[]][]).map(([entryId, fields]) => ({ at: Number(entryId.split('-')[0]), event: JSON.parse(fields[fields.indexOf('data') + 1] ?? '{}') as ExperimentEvent })),
      );
    });
  }
  return events;
}

/** Checks a finished sweep of simulated runs (see the top of this file). */
export async function auditSimulatedSweep(prisma: PrismaService, redis: Redis, prefix: string, sweepId: string): Promise<SweepAudit> {
  const runs = await prisma.experiment.findMany({ where: { sweepId }, select: { id: true, status: true, strategy: true, lr: true, lrFactor: true, momentum: true, weightDecay: true, epochs: true, batchSize: true, imageSize: true, seed: true, stepSize: true, gamma: true } });
  const rows = await prisma.epochMetric.findMany({ where: { experiment: { sweepId } }, orderBy: [{ experimentId: 'asc' }, { epoch: 'asc' }] });
  const byRun = new Map<string, typeof rows>();
  for (const row of rows) byRun.set(row.experimentId, [...(byRun.get(row.experimentId) ?? []), row]);
  const events = await readEvents(redis, prefix, runs.map((r) => r.id));
  const audit: SweepAudit = { runs: runs.length, lost: 0, duplicated: 0, wrong: 0, unfinished: 0, reReported: 0, problems: [], events };
  const problem = (text: string): void => void (audit.problems.length < 10 && audit.problems.push(text));
  for (const run of runs) {
    const { id, status, epochs, ...hyper } = run;
    if (status !== 'succeeded') {
      audit.unfinished++;
      problem(`${id}: ${status}`);
    }
    const expected = expectedSimulatedMetrics({ ...hyper, strategy: hyper.strategy as Strategy, epochs }, SIM_CLASSES.length, epochs);
    const stored = byRun.get(id) ?? [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const matching = stored.filter((r) => r.epoch === epoch);
      if (matching.length === 0) {
        audit.lost++;
        problem(`${id}: epoch ${epoch} missing`);
      }
      audit.duplicated += Math.max(0, matching.length - 1);
      const want = expected[epoch - 1] as SimulatedMetrics;
      const differs = matching[0] && (COMPARED.some((k) => matching[0]![k] !== want[k]) || matching[0].lrs.join() !== want.lrs.join());
      if (differs) {
        audit.wrong++;
        problem(`${id}: epoch ${epoch} differs from the uninterrupted run (valAcc ${matching[0]!.valAcc} vs ${want.valAcc})`);
      }
    }
    const beyond = stored.filter((r) => r.epoch < 1 || r.epoch > epochs).length;
    audit.duplicated += beyond;
    const timeline = events.get(id) ?? [];
    const finals = timeline.filter((e) => e.event.type === 'status' && e.event.status === 'succeeded').length;
    if (finals > 1) {
      audit.duplicated += finals - 1;
      problem(`${id}: succeeded ${finals} times`);
    }
    audit.reReported += Math.max(0, timeline.filter((e) => e.event.type === 'epoch').length - epochs);
  }
  return audit;
}
