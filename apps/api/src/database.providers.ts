// Prisma and the repositories the API uses, built from FleetConfig (repositories are plain classes
// in libs/persistence, not Nest providers, so the worker and CLI can use them too).
import { ExperimentRepository, PrismaService, SweepRepository, SweepSearchRepository, EpochMetricRepository, WorkerRepository } from '@fleet/persistence';
import { FLEET_CONFIG, type FleetConfig } from './api-options.js';

export const databaseProviders = [
  { provide: PrismaService, inject: [FLEET_CONFIG], useFactory: (config: FleetConfig) => new PrismaService(config.databaseUrl, { poolMax: config.databasePoolMax }) },
  { provide: ExperimentRepository, inject: [PrismaService], useFactory: (p: PrismaService) => new ExperimentRepository(p) },
  { provide: SweepRepository, inject: [PrismaService], useFactory: (p: PrismaService) => new SweepRepository(p) },
  { provide: SweepSearchRepository, inject: [PrismaService], useFactory: (p: PrismaService) => new SweepSearchRepository(p) },
  { provide: EpochMetricRepository, inject: [PrismaService], useFactory: (p: PrismaService) => new EpochMetricRepository(p) },
  { provide: WorkerRepository, inject: [PrismaService], useFactory: (p: PrismaService) => new WorkerRepository(p) },
];
