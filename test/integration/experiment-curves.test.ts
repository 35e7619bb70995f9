// Experiment's curve columns (what a sweep comparison reads) must always equal the run's stored
// EpochMetric rows, whatever writes them: the worker's per-epoch upsert, a replayed epoch, bulk
// inserts, direct updates and deletes, and two transactions storing epochs of one run at once.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ExperimentRunRepository, PrismaService } from '@fleet/persistence';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { testDatabaseUrl } from '../test-env.mjs';

const prisma = new PrismaService(testDatabaseUrl());
const runs = new ExperimentRunRepository(prisma);
const db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });

beforeAll(async () => {
  // Both pools connect up front so that the concurrency test below measures locks, not connects.
  await prisma.$connect();
  await db.query('SELECT 1');
});
afterAll(async () => {
  await db.query(`DELETE FROM "Experiment" WHERE dataset = 'curves'`);
  await prisma.$disconnect();
  await db.end();
});

async function newExperiment(): Promise<string> {
  const row = await prisma.experiment.create({
    data: { dataset: 'curves', strategy: 'scratch', lr: 0.01, lrFactor: 0.1, momentum: 0.9, epochs: 5, batchSize: 4, imageSize: 32, seed: 1, stepSize: 7, gamma: 0.1 },
  });
  return row.id;
}

const metrics = (epoch: number, valAcc: number, trainLoss = 1 / epoch, seconds = epoch + 0.25): EpochMetrics => ({
  epoch,
  trainLoss,
  trainAcc: 0.5,
  valLoss: 0.7,
  valAcc,
  lrs: [0.01],
  seconds,
  imagesPerSec: 32,
  trainableParams: 1026,
  backboneDrift: 0,
  bnStatsDrift: 0,
});

interface Curve {
  epochs: number[];
  valAcc: number[];
  trainLoss: number[];
  secondsSum: number;
}

/** The curve columns as stored (Prisma's model queries omit them). */
async function storedCurve(id: string): Promise<Curve> {
  const { rows } = await db.query<{ e: number[]; v: number[]; t: number[]; s: number }>(
    'SELECT "curveEpochs" AS e, "curveValAcc" AS v, "curveTrainLoss" AS t, "epochSecondsSum" AS s FROM "Experiment" WHERE id = $1',
    [id],
  );
  const r = rows[0]!;
  return { epochs: r.e, valAcc: r.v, trainLoss: r.t, secondsSum: r.s };
}

/** The same, computed straight from the EpochMetric rows. */
async function expectedCurve(id: string): Promise<Curve> {
  const rows = await prisma.epochMetric.findMany({ where: { experimentId: id }, orderBy: { epoch: 'asc' } });
  return {
    epochs: rows.map((r) => r.epoch),
    valAcc: rows.map((r) => r.valAcc),
    trainLoss: rows.map((r) => r.trainLoss),
    secondsSum: rows.reduce((s, r) => s + r.seconds, 0),
  };
}

async function expectInSync(id: string): Promise<Curve> {
  const curve = await storedCurve(id);
  const expected = await expectedCurve(id);
  expect({ ...curve, secondsSum: 0 }).toEqual({ ...expected, secondsSum: 0 });
  expect(curve.secondsSum).toBeCloseTo(expected.secondsSum, 12);
  return curve;
}

describe('Experiment curve columns', () => {
  it('start empty and follow the worker: every epoch, and a replayed epoch replaces its values', async () => {
    const id = await newExperiment();
    expect(await storedCurve(id)).toEqual({ epochs: [], valAcc: [], trainLoss: [], secondsSum: 0 });
    await runs.recordEpoch(id, metrics(1, 0.5));
    await runs.recordEpoch(id, metrics(2, 0.6));
    await runs.recordEpoch(id, metrics(3, 0.7));
    // A retried run (or a resume from an older checkpoint) writes epoch 2 again, with other values.
    await runs.recordEpoch(id, metrics(2, 0.65, 0.4, 10));
    const curve = await expectInSync(id);
    expect(curve.epochs).toEqual([1, 2, 3]);
    expect(curve.valAcc).toEqual([0.5, 0.65, 0.7]);
    expect(curve.trainLoss).toEqual([1, 0.4, 1 / 3]);
    expect(curve.secondsSum).toBeCloseTo(1.25 + 10 + 3.25, 12);
  });

  it('follow bulk inserts, updates and deletes of EpochMetric rows', async () => {
    const a = await newExperiment();
    const b = await newExperiment();
    // Out of epoch order, two runs in one statement.
    await prisma.epochMetric.createMany({
      data: [
        { experimentId: a, ...metrics(3, 0.3) },
        { experimentId: b, ...metrics(1, 0.9) },
        { experimentId: a, ...metrics(1, 0.1) },
        { experimentId: a, ...metrics(2, 0.2) },
      ],
    });
    expect((await expectInSync(a)).valAcc).toEqual([0.1, 0.2, 0.3]);
    expect((await expectInSync(b)).epochs).toEqual([1]);

    await prisma.epochMetric.updateMany({ where: { experimentId: a, epoch: 2 }, data: { valAcc: 0.25, seconds: 7 } });
    expect((await expectInSync(a)).valAcc).toEqual([0.1, 0.25, 0.3]);

    await prisma.epochMetric.deleteMany({ where: { experimentId: a, epoch: 1 } });
    expect((await expectInSync(a)).epochs).toEqual([2, 3]);

    await prisma.epochMetric.deleteMany({ where: { experimentId: { in: [a, b] } } });
    expect(await storedCurve(a)).toEqual({ epochs: [], valAcc: [], trainLoss: [], secondsSum: 0 });
    expect(await storedCurve(b)).toEqual({ epochs: [], valAcc: [], trainLoss: [], secondsSum: 0 });
  });

  it('keep the epochs of two transactions that store epochs of the same run at the same time', async () => {
    const id = await newExperiment();
    await runs.recordEpoch(id, metrics(1, 0.5));
    const first = await db.connect();
    const second = await db.connect();
    const insert = (epoch: number) => ({
      text: `INSERT INTO "EpochMetric" (id, "experimentId", epoch, "trainLoss", "trainAcc", "valLoss", "valAcc", lrs, seconds, "imagesPerSec", "trainableParams", "backboneDrift", "bnStatsDrift")
             VALUES ($1, $2, $3, 1, 0.5, 0.5, $4, '{0.01}', 1, 1, 1, 0, 0)`,
      values: [randomUUID(), id, epoch, epoch / 10],
    });
    try {
      const secondPid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await first.query('BEGIN');
      await first.query(insert(2));
      await second.query('BEGIN');
      // Waits in the trigger for the run's row lock that the first transaction holds ...
      const blocked = second.query(insert(3)).then(() => second.query('COMMIT'));
      const waiting = async () => (await db.query<{ n: number }>('SELECT cardinality(pg_blocking_pids($1)) AS n', [secondPid])).rows[0]!.n > 0;
      const deadline = Date.now() + 10_000;
      while (!(await waiting())) {
        if (Date.now() > deadline) throw new Error('the second transaction never waited for the first');
        await new Promise((r) => setTimeout(r, 10));
      }
      // ... and, once the first commits, recomputes the curve with the first one's epoch in it.
      await first.query('COMMIT');
      await blocked;
    } finally {
      first.release();
      second.release();
    }
    const curve = await expectInSync(id);
    expect(curve.epochs).toEqual([1, 2, 3]);
  });

  it('are removed with their experiment (cascade) without touching other runs', async () => {
    const keep = await newExperiment();
    const drop = await newExperiment();
    await runs.recordEpoch(keep, metrics(1, 0.5));
    await runs.recordEpoch(drop, metrics(1, 0.6));
    await prisma.experiment.delete({ where: { id: drop } });
    expect(await prisma.epochMetric.count({ where: { experimentId: drop } })).toBe(0);
    expect((await expectInSync(keep)).valAcc).toEqual([0.5]);
  });
});
