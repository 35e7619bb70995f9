// In-process API for the api-*.test.ts files: createApp() on the test database and Redis with a
// fresh QUEUE_PREFIX and temp DATA_ROOT/WEIGHTS_ROOT per test file, plus direct handles (Prisma,
// queue, Redis) to check side effects. close() obliterates the queue and removes the temp dirs.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { FleetConfig } from '@fleet/config';
import { PrismaService } from '@fleet/persistence';
import { QueueName } from '@fleet/queue';
import { createApp, type CreateAppOptions } from '../../apps/api/src/app.factory.js';
import { testDatabaseUrl, testRedisUrl } from '../test-env.mjs';

export interface ApiTestContext {
  app: NestExpressApplication;
  /** Pass to supertest's request(). */
  server: ReturnType<NestExpressApplication['getHttpServer']>;
  config: FleetConfig;
  prisma: PrismaService;
  queue: Queue;
  redis: Redis;
  /** A dataset folder name unique to this file (exists under DATA_ROOT). */
  dataset: string;
  /** A weights file name (exists under WEIGHTS_ROOT). */
  weights: string;
  /** Experiments stored for this file's datasets. */
  countExperiments(): Promise<number>;
  /** Jobs of this file's queue in any state. */
  countJobs(): Promise<number>;
  close(): Promise<void>;
}

export async function startApi(overrides: Partial<FleetConfig> = {}, options: CreateAppOptions = {}): Promise<ApiTestContext> {
  const root = await mkdtemp(path.join(tmpdir(), 'fleet-api-'));
  const dataRoot = path.join(root, 'data');
  const weightsRoot = path.join(root, 'weights');
  const dataset = `ds-${randomUUID().slice(0, 8)}`;
  const weights = 'resnet18.pth';
  await mkdir(path.join(dataRoot, dataset, 'train'), { recursive: true });
  await mkdir(weightsRoot, { recursive: true });
  await writeFile(path.join(weightsRoot, weights), 'not really weights');
  const config: FleetConfig = {
    databaseUrl: testDatabaseUrl(),
    redisUrl: testRedisUrl(),
    dataRoot,
    weightsRoot,
    artifactsDir: path.join(root, 'artifacts'),
    artifactStore: undefined,
    port: 0,
    apiKey: undefined,
    maxSweepRuns: 1000,
    queuePrefix: `test-api-${randomUUID()}`,
    artifactsRetentionDays: 0,
    metricsToken: undefined,
    databasePoolMax: undefined,
    ...overrides,
  };
  const app = await createApp(config, { logger: false, dashboard: false, rateLimit: false, ...options });
  await app.init();
  const prisma = new PrismaService(config.databaseUrl);
  // The test's own handles always use the real Redis (a test may point the API at a dead one).
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queueConnection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queue = new Queue(QueueName.Train, { connection: queueConnection, prefix: config.queuePrefix });
  return {
    app,
    server: app.getHttpServer(),
    config,
    prisma,
    queue,
    redis,
    dataset,
    weights,
    countExperiments: () => prisma.experiment.count({ where: { dataset: { startsWith: dataset } } }),
    countJobs: async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0),
    close: async () => {
      await app.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await queueConnection.quit();
      const keys = await redis.keys(`${config.queuePrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await prisma.sweep.deleteMany({ where: { experiments: { some: { dataset: { startsWith: dataset } } } } });
      await prisma.experiment.deleteMany({ where: { dataset: { startsWith: dataset } } });
      await prisma.$disconnect();
      await rm(root, { recursive: true, force: true });
    },
  };
}
