// The worker's retry decision on errors the real Prisma client + pg adapter raise. A Postgres that
// is restarting answers "the database system is starting up" (57P03) or drops the connection with
// 57P01; Prisma reports such errors as P2039/P2010 with the SQLSTATE inside, and a worker that took
// them for permanent failed the attempt instead of waiting (seen as a run with attempts 2 in the
// Postgres-restart fault test).
import pg from 'pg';
import { ExperimentRunRepository, PrismaService } from '@fleet/persistence';
import { isTransientDbError, sqlStateOf } from '../../apps/worker/src/retry.js';
import { testDatabaseUrl } from '../test-env.mjs';

const prisma = new PrismaService(testDatabaseUrl());
const runs = new ExperimentRunRepository(prisma);

afterAll(async () => {
  await prisma.$disconnect();
});

async function newExperiment(): Promise<string> {
  const row = await prisma.experiment.create({
    data: { dataset: 'tiny', strategy: 'scratch', lr: 0.01, lrFactor: 0.1, momentum: 0.9, epochs: 3, batchSize: 4, imageSize: 32, seed: 1, stepSize: 7, gamma: 0.1, status: 'running' },
  });
  return row.id;
}

async function raiseSqlState(sqlState: string): Promise<unknown> {
  return prisma.$executeRawUnsafe(`DO $$ BEGIN RAISE EXCEPTION 'raised by the test' USING ERRCODE = '${sqlState}'; END $$`).then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (err: unknown) => err,
  );
}

describe('isTransientDbError on real Prisma errors', () => {
  it.each([
    ['57P03', true], // the database system is starting up
    ['57P01', true], // terminating connection due to administrator command
    ['08006', true], // connection failure
    ['53300', true], // too many connections
    ['40001', true], // serialization failure
    ['23514', false], // check violation: wrong every time
    ['42601', false], // syntax error
  ])('SQLSTATE %s from a statement -> transient %s', async (sqlState, transient) => {
    const err = await raiseSqlState(sqlState);
    if (sqlState !== '53300') expect(sqlStateOf(err)).toBe(sqlState);
    expect(isTransientDbError(err)).toBe(transient);
  });

  it('a model query whose connection the server terminates (57P01) is retried', async () => {
    const id = await newExperiment();
    const locker = new pg.Client({ connectionString: testDatabaseUrl() });
    await locker.connect();
    try {
      // Hold the row so the worker's update waits on it, then terminate the waiting backend the
      // way a fast shutdown terminates every session.
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM "Experiment" WHERE id = $1 FOR UPDATE', [id]);
      const update = runs.markSucceeded(id).then(
        () => undefined,
        (err: unknown) => err,
      );
      let waiting: number | undefined;
      for (let i = 0; i < 200 && waiting === undefined; i++) {
        const { rows } = await locker.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))',
        );
        waiting = rows[0]?.pid;
        if (waiting === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(waiting).toBeDefined();
      await locker.query('SELECT pg_terminate_backend($1)', [waiting]);
      const err = await update;
      expect(err).toBeInstanceOf(Error);
      expect(sqlStateOf(err) ?? 'connection lost').toMatch(/^(57P01|connection lost)$/);
      expect(isTransientDbError(err)).toBe(true);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it('a raw statement (the worker stores epochs with one) that cannot reach the server is retried', async () => {
    // P2010 with the adapter's DatabaseNotReachable and no SQLSTATE: once taken for permanent, which
    // failed the Postgres-restart fault test's epoch write instead of waiting it out.
    const away = new PrismaService('postgresql://postgres@127.0.0.1:1/none', { poolMax: 1 });
    try {
      const err = await new ExperimentRunRepository(away).recordEpoch('any', { epoch: 1, trainLoss: 1, trainAcc: 0, valLoss: 1, valAcc: 0, lrs: [0.1], seconds: 1, imagesPerSec: 1, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'P2010' });
      expect(isTransientDbError(err)).toBe(true);
    } finally {
      await away.$disconnect();
    }
  });

  it('an epoch of a deleted experiment (raw statement, foreign key) is not retried', async () => {
    const err = await runs.recordEpoch('no-such-experiment', { epoch: 1, trainLoss: 1, trainAcc: 0, valLoss: 1, valAcc: 0, lrs: [0.1], seconds: 1, imagesPerSec: 1, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(isTransientDbError(err)).toBe(false);
  });

  it('a foreign key to a missing experiment is not retried', async () => {
    const err = await prisma.epochMetric
      .create({ data: { experimentId: 'no-such-experiment', epoch: 1, trainLoss: 1, trainAcc: 0, valLoss: 1, valAcc: 0, lrs: [0.1], seconds: 1, imagesPerSec: 1, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 'P2003' });
    expect(isTransientDbError(err)).toBe(false);
  });
});
