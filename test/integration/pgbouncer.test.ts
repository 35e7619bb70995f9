// The repositories through PgBouncer in transaction mode (how a large fleet stays within Postgres's
// 100 connections, README "Connection budget"): many clients on 2 server connections store epochs
// concurrently (Prisma's pg adapter must send no named prepared statement, which a server
// connection shared between clients would not know), and SELECT ... FOR UPDATE inside an
// interactive transaction still serialises two clients (the server connection is held for the
// whole transaction). Needs Debian's pgbouncer: .ci/run installs it and CI fails without it;
// elsewhere the suite is skipped with a message.
import { execFileSync } from 'node:child_process';
import { ExperimentRunRepository, PrismaService } from '@fleet/persistence';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import { isTransientDbError, retryUntilDone } from '../../apps/worker/src/retry.js';
import { PrivatePgBouncer } from '../support/private-services.js';
import { testDatabaseUrl } from '../test-env.mjs';

function hasPgBouncer(): boolean {
  try {
    execFileSync('pgbouncer', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasPgBouncer();
if (!available && process.env.CI === 'true') throw new Error('CI=true but no pgbouncer on PATH: apt-get install pgbouncer (.ci/run does)');
if (!available) process.stderr.write('pgbouncer.test.ts: skipped, pgbouncer is not installed (apt-get install pgbouncer)\n');
const describeWithPgBouncer = available ? describe : describe.skip;

const CLIENTS = 8;
const EPOCHS = 5;

const metrics = (epoch: number): EpochMetrics => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAcc: 0.5,
  valLoss: 0.7,
  valAcc: epoch / 10,
  lrs: [0.01],
  seconds: 0.5,
  imagesPerSec: 32,
  trainableParams: 1026,
  backboneDrift: 0,
  bnStatsDrift: 0,
});

describeWithPgBouncer('Postgres through PgBouncer (transaction mode)', () => {
  let bouncer: PrivatePgBouncer;
  let clients: PrismaService[];
  const direct = new PrismaService(testDatabaseUrl(), { poolMax: 2 });

  beforeAll(async () => {
    const url = new URL(testDatabaseUrl());
    const database = url.pathname.slice(1);
    bouncer = await PrivatePgBouncer.start({ target: { host: url.hostname, port: Number(url.port || 5432) }, databases: [database], poolSize: 2 });
    clients = Array.from({ length: CLIENTS }, () => new PrismaService(bouncer.url(database), { poolMax: 2 }));
  });
  afterAll(async () => {
    await Promise.all((clients ?? []).map((c) => c.$disconnect()));
    await direct.$disconnect();
    await bouncer?.destroy();
  });

  it('stores every epoch of concurrent runs from many clients on two server connections', async () => {
    const ids = await Promise.all(
      clients.map(async (c) => (await c.experiment.create({ data: { dataset: 'tiny', strategy: 'scratch', lr: 0.01, lrFactor: 0.1, momentum: 0.9, epochs: EPOCHS, batchSize: 4, imageSize: 32, seed: 1, stepSize: 7, gamma: 0.1 } })).id),
    );
    await Promise.all(
      clients.map(async (c, i) => {
        const runs = new ExperimentRunRepository(c);
        // As the worker does: a transaction that waited too long for a server connection (P2028
        // on a loaded machine) is retried; any other error fails the test.
        for (let epoch = 1; epoch <= EPOCHS; epoch++) await retryUntilDone(() => runs.recordEpoch(ids[i] as string, metrics(epoch)), { shouldRetry: isTransientDbError });
      }),
    );
    const stored = await direct.experiment.findMany({ where: { id: { in: ids } }, select: { epochsDone: true, bestEpoch: true, curveEpochs: true } });
    expect(stored).toEqual(ids.map(() => ({ epochsDone: EPOCHS, bestEpoch: EPOCHS, curveEpochs: [1, 2, 3, 4, 5] })));
    await direct.experiment.deleteMany({ where: { id: { in: ids } } });
  });

  it('keeps a row lock taken with SELECT ... FOR UPDATE until the transaction ends', async () => {
    const { id } = await direct.worker.create({ data: { id: `pgbouncer-test-${Date.now()}`, host: 'h', pid: 1, backend: 'simulated' } });
    const [a, b] = clients as [PrismaService, PrismaService];
    let releasedAt = 0;
    let locked!: () => void;
    const aHoldsLock = new Promise<void>((resolve) => (locked = resolve));
    const first = a.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Worker" WHERE id = ${id} FOR UPDATE`;
      locked();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await tx.worker.update({ where: { id }, data: { pid: 2 } });
      releasedAt = Date.now();
    });
    await aHoldsLock;
    const second = b.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<{ pid: number }[]>`SELECT pid FROM "Worker" WHERE id = ${id} FOR UPDATE`;
      return { pid: row?.pid, at: Date.now() };
    });
    const [, seen] = await Promise.all([first, second]);
    // B waited for A's commit and saw its write.
    expect(seen.pid).toBe(2);
    expect(seen.at).toBeGreaterThanOrEqual(releasedAt);
    await direct.worker.delete({ where: { id } });
  });
});
