export { PrismaService } from './prisma.service.js';
export { Prisma } from './generated/prisma/client.js';
export type { ExperimentStatus } from './generated/prisma/enums.js';
export * from './epoch-metric.repository.js';
export * from './experiment-run.repository.js';
export * from './worker.repository.js';
