export { PrismaService } from './prisma.service.js';
export { Prisma } from './generated/prisma/client.js';
export type { ExperimentStatus } from './generated/prisma/enums.js';
