// The one PrismaClient of a process, tied to the Nest module lifecycle when used inside Nest and
// usable standalone (worker, CLI, tests). Runtime goes through @prisma/adapter-pg: no native
// query engine is needed (see README "Database").
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type Experiment } from './generated/prisma/client.js';

/**
 * Columns no model query returns: Experiment's learning-curve columns are maintained by database
 * triggers and read only by the sweep comparison's own SQL, so listing or loading experiments does
 * not carry (and parse) every run's curve arrays.
 */
const OMIT = {
  experiment: { curveEpochs: true, curveValAcc: true, curveTrainLoss: true, epochSecondsSum: true },
} as const;

/** An Experiment row as model queries return it (without the omitted columns). */
export type ExperimentRow = Omit<Experiment, keyof typeof OMIT.experiment>;

export interface PrismaServiceOptions {
  /**
   * Most Postgres connections this client opens at once (node-postgres' pool `max`). Default 10.
   * Every process holds its own pool, and Postgres allows 100 connections in all by default.
   */
  poolMax?: number | undefined;
}

export class PrismaService extends PrismaClient<{ adapter: PrismaPg; omit: typeof OMIT }> {
  constructor(databaseUrl: string, options: PrismaServiceOptions = {}) {
    super({ adapter: new PrismaPg({ connectionString: databaseUrl, ...(options.poolMax === undefined ? {} : { max: options.poolMax }) }), omit: OMIT });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
