// The common set-up of the worker e2e suites: a harness with the tiny dataset ("tiny") and the
// generated ResNet18 weights ("resnet18.pth") in place, the built API, N workers and a Prisma
// client on the test database for assertions, plus the waits those suites share.
import path from 'node:path';
import { Queue } from 'bullmq';
import { PrismaService } from '@fleet/persistence';
import { QueueName, type ExperimentStatusName } from '@fleet/queue';
import { FleetApi } from './fleet-api.js';
import { FleetHarness, type ApiHandle, type StartWorkerOptions, type WorkerHandle } from './fleet-harness.js';
import { writeRandomResnet18Pth } from '@fleet/training/weights/random-resnet18-pth.js';
import { writeTinyDataset, type TinyDatasetOptions } from './tiny-dataset.js';
import { isAlive } from './managed-process.js';
import { waitFor } from './wait-for.js';

export const TINY_DATASET = 'tiny';
export const TEST_WEIGHTS = 'resnet18.pth';

export interface E2eFleetOptions {
  /** Workers started (in parallel) once the API is up. Default 1 */
  workers?: number;
  /** Options of every worker (env such as WORKER_LOCK_DURATION_MS). */
  worker?: StartWorkerOptions;
  dataset?: TinyDatasetOptions;
  /** Redis instead of the shared test one (the fault suites' private, restartable Redis). */
  redisUrl?: string;
  /** Database instead of the shared test database (a private, restartable Postgres). */
  databaseUrl?: string;
  /** Extra environment of the API. */
  apiEnv?: Record<string, string>;
  /** Redis key prefix (a Redis Cluster needs a hash tag). Default: the harness's random one. */
  queuePrefix?: string;
}

export interface E2eFleet {
  harness: FleetHarness;
  apiProcess: ApiHandle;
  api: FleetApi;
  workers: WorkerHandle[];
  prisma: PrismaService;
  close(): Promise<void>;
}

export async function startE2eFleet(options: E2eFleetOptions = {}): Promise<E2eFleet> {
  const harness = await FleetHarness.create({
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.queuePrefix ? { queuePrefix: options.queuePrefix } : {}),
  });
  const prisma = new PrismaService(harness.databaseUrl);
  try {
    await Promise.all([
      writeTinyDataset(path.join(harness.dataRoot, TINY_DATASET), options.dataset),
      writeRandomResnet18Pth(path.join(harness.weightsRoot, TEST_WEIGHTS)),
    ]);
    const apiProcess = await harness.startApi(options.apiEnv ? { env: options.apiEnv } : {});
    const workers = await Promise.all(Array.from({ length: options.workers ?? 1 }, () => harness.startWorker(options.worker)));
    return {
      harness,
      apiProcess,
      api: new FleetApi(apiProcess.url),
      workers,
      prisma,
      async close() {
        await harness.teardown();
        await prisma.$disconnect();
      },
    };
  } catch (err) {
    // the start's error is what the test must report, not a failure of the clean-up after it
    await harness.teardown().catch(() => undefined);
    await prisma.$disconnect();
    throw err;
  }
}

/** A suite's fleet and a BullMQ handle on its train queue, set by {@link useE2eFleetWithQueue}'s beforeAll. */
export interface E2eSuiteFleet {
  fleet: E2eFleet;
  queue: Queue;
}

/**
 * Registers the suite's beforeAll (start the fleet, open the train queue) and afterAll (close both);
 * the returned object holds them once beforeAll has run.
 */
export function useE2eFleetWithQueue(options: E2eFleetOptions = {}): E2eSuiteFleet {
  const suite = {} as E2eSuiteFleet;
  beforeAll(async () => {
    suite.fleet = await startE2eFleet(options);
    suite.queue = new Queue(QueueName.Train, { connection: { url: suite.fleet.harness.redisUrl }, prefix: suite.fleet.harness.queuePrefix });
  }, 180_000);
  afterAll(async () => {
    // undefined when beforeAll failed part-way
    await (suite.queue as Queue | undefined)?.close();
    await (suite.fleet as E2eFleet | undefined)?.close();
  });
  return suite;
}

/** Body of POST /api/experiments for the tiny set-up; `overrides` win. */
export function tinyExperiment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { dataset: TINY_DATASET, weights: TEST_WEIGHTS, strategy: 'finetune', epochs: 2, batchSize: 4, imageSize: 32, lr: 0.01, seed: 1, ...overrides };
}

export async function createExperiment(api: FleetApi, body: Record<string, unknown>): Promise<string> {
  const created = await api.post<{ id: string }>('/api/experiments', body);
  return created.id;
}

/** Waits until the experiment reaches one of `statuses`; fails early (with its error) on an unexpected terminal state. */
export async function waitForStatus(prisma: PrismaService, id: string, statuses: ExperimentStatusName[], timeoutMs = 120_000) {
  return waitFor(
    async () => {
      const row = await prisma.experiment.findUniqueOrThrow({ where: { id } });
      if (statuses.includes(row.status)) return row;
      if (['succeeded', 'failed', 'cancelled', 'stopped'].includes(row.status)) throw new Error(`experiment ${id} ended ${row.status}${row.error ? `: ${row.error}` : ''}, expected ${statuses.join('|')}`);
      return undefined;
    },
    { timeoutMs, intervalMs: 100, what: `experiment ${id} to be ${statuses.join('|')}` },
  ).catch(async (err: unknown) => {
    const row = await prisma.experiment.findUnique({ where: { id } });
    throw new Error(`${err instanceof Error ? err.message : String(err)} (now ${row?.status ?? 'missing'}, error ${row?.error ?? 'none'})`);
  });
}

/** Waits until at least `epochs` epochs of the experiment are stored. */
export function waitForEpochs(prisma: PrismaService, id: string, epochs: number, timeoutMs = 120_000) {
  return waitFor(async () => (await prisma.epochMetric.count({ where: { experimentId: id } })) >= epochs, { timeoutMs, intervalMs: 50, what: `${epochs} stored epoch(s) of ${id}` });
}

/** Stored epoch numbers of an experiment, in storage order (duplicates would show). */
/**
 * The queue's job counts once no job is active or waiting. A worker stores `succeeded` before
 * BullMQ moves its job to completed, so a test that checks the counts right after the database says
 * `succeeded` waits for that move here (a job lost in a fault would stay active or waiting and time
 * this out).
 */
export function settledJobCounts(queue: Queue, timeoutMs = 15_000): Promise<Record<string, number>> {
  return waitFor(
    async () => {
      const c = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
      return c.active === 0 && c.waiting === 0 ? c : undefined;
    },
    { timeoutMs, what: 'no job left active or waiting' },
  );
}

export async function storedEpochs(prisma: PrismaService, id: string): Promise<number[]> {
  const rows = await prisma.epochMetric.findMany({ where: { experimentId: id }, orderBy: { epoch: 'asc' }, select: { epoch: true } });
  return rows.map((r) => r.epoch);
}

/** The deterministic part of the stored metrics (timings left out), for run-to-run comparison. */
export async function comparableMetrics(prisma: PrismaService, id: string) {
  const rows = await prisma.epochMetric.findMany({ where: { experimentId: id }, orderBy: { epoch: 'asc' } });
  return rows.map((r) => ({ epoch: r.epoch, trainLoss: r.trainLoss, trainAcc: r.trainAcc, valLoss: r.valLoss, valAcc: r.valAcc, lrs: r.lrs, backboneDrift: r.backboneDrift, bnStatsDrift: r.bnStatsDrift }));
}

/**
 * After a worker was killed: waits until its training processes have exited too (they notice
 * their parent is gone), so nothing of it keeps training.
 */
export async function trainingProcessesGone(worker: WorkerHandle): Promise<void> {
  for (const pid of worker.trainingPids) await waitFor(() => !isAlive(pid), { timeoutMs: 10_000, what: `training process ${pid} of the killed worker ${worker.id} to exit` });
}
