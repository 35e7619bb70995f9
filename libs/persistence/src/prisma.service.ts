// The one PrismaClient of a process, tied to the Nest module lifecycle when used inside Nest and
// usable standalone (worker, CLI, tests). Runtime goes through @prisma/adapter-pg: no native
// query engine is needed (see README "Database").
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export class PrismaService extends PrismaClient {
  constructor(databaseUrl: string) {
    super({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
