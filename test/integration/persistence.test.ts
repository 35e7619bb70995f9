// The schema round-trips through the real Postgres: a sweep with experiments and epoch metrics,
// and the (experimentId, epoch) uniqueness that guarantees each epoch lands exactly once.
import { randomUUID } from 'node:crypto';
import { PrismaService } from '@fleet/persistence';
import { testDatabaseUrl } from '../test-env.mjs';

describe('Prisma schema on Postgres', () => {
  const prisma = new PrismaService(testDatabaseUrl());
  afterAll(async () => {
    await prisma.$disconnect();
  });

  const experimentFields = (sweepId: string, seed: number) => ({
    id: randomUUID(),
    sweepId,
    dataset: 'demo',
    weights: 'resnet18.pth',
    strategy: 'finetune',
    lr: 0.001,
    lrFactor: 0.1,
    momentum: 0.9,
    epochs: 3,
    batchSize: 16,
    imageSize: 224,
    seed,
    stepSize: 7,
    gamma: 0.1,
  });

  const metric = (epoch: number, valAcc: number) => ({
    epoch,
    trainLoss: 0.5,
    trainAcc: 0.7,
    valLoss: 0.4,
    valAcc,
    lrs: [0.001],
    seconds: 1.5,
    imagesPerSec: 160,
    trainableParams: 11_177_538,
    backboneDrift: 0.01,
    bnStatsDrift: 0.02,
  });

  it('writes a sweep, experiments and epoch metrics and reads them back', async () => {
    const sweep = await prisma.sweep.create({ data: { name: 'it', base: { strategy: 'finetune' }, grid: { seed: [1, 2] } } });
    const a = await prisma.experiment.create({ data: experimentFields(sweep.id, 1) });
    await prisma.experiment.create({ data: experimentFields(sweep.id, 2) });
    await prisma.epochMetric.createMany({ data: [1, 2, 3].map((e) => ({ experimentId: a.id, ...metric(e, 0.5 + e / 10) })) });

    const read = await prisma.sweep.findUniqueOrThrow({
      where: { id: sweep.id },
      include: { experiments: { include: { epochMetrics: { orderBy: { epoch: 'asc' } } }, orderBy: { seed: 'asc' } } },
    });
    expect(read.experiments).toHaveLength(2);
    expect(read.experiments[0]?.status).toBe('queued');
    expect(read.experiments[0]?.epochMetrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(read.experiments[0]?.epochMetrics[2]?.valAcc).toBeCloseTo(0.8);
    expect(read.experiments[0]?.epochMetrics[0]?.lrs).toEqual([0.001]);
  });

  it('never stores an epoch twice: a duplicate insert is rejected, an upsert replaces', async () => {
    const sweep = await prisma.sweep.create({ data: { base: {}, grid: {} } });
    const exp = await prisma.experiment.create({ data: experimentFields(sweep.id, 3) });
    await prisma.epochMetric.create({ data: { experimentId: exp.id, ...metric(1, 0.6) } });

    await expect(prisma.epochMetric.create({ data: { experimentId: exp.id, ...metric(1, 0.9) } })).rejects.toMatchObject({
      code: 'P2002',
    });
    await prisma.epochMetric.upsert({
      where: { experimentId_epoch: { experimentId: exp.id, epoch: 1 } },
      create: { experimentId: exp.id, ...metric(1, 0.7) },
      update: metric(1, 0.7),
    });
    const rows = await prisma.epochMetric.findMany({ where: { experimentId: exp.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.valAcc).toBeCloseTo(0.7);
  });
});
