// The fleet of the fault suites: test/support/e2e-fleet.ts's (built API, workers, tiny dataset,
// generated weights, Prisma for assertions), optionally wired to a PRIVATE Redis and/or
// Postgres (test/support/private-services.ts) that the test may stop and restart, plus the checks
// every fault test makes on a finished experiment.
import { createRedisConnection, eventStreamKey, type ExperimentEvent } from '@fleet/queue';
import { startE2eFleet, tinyExperiment, type E2eFleet } from '../support/e2e-fleet.js';
import { defaultTestBackend, type StartWorkerOptions } from '../support/fleet-harness.js';
import type { PrivatePostgres, PrivateRedis } from '../support/private-services.js';

export interface FaultFleetOptions {
  /** Private Redis to use instead of the shared test one. */
  redis?: PrivateRedis;
  /** Private Postgres to use instead of the shared test database (its migrated database). */
  postgres?: PrivatePostgres;
  /** Workers started once the API is up. Default 1 */
  workers?: number;
  worker?: StartWorkerOptions;
  /** Extra environment of the API. */
  apiEnv?: Record<string, string>;
}

/**
 * Backend of the fault suites' workers: wasm trains the tiny runs several times faster than the
 * pure-JS cpu backend (measured here under load: 2 epochs of freeze at 32 px in 7 s vs 25 s).
 */
export const FAULT_WORKER_ARGS = ['--backend', defaultTestBackend()];

/** A tiny run that is cheap to train (frozen backbone) but still checkpoints every tensor. */
export function faultExperiment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return tinyExperiment({ strategy: 'freeze', ...overrides });
}

export { FAST_STALL } from '../support/fleet-harness.js';

export function startFaultFleet(options: FaultFleetOptions = {}): Promise<E2eFleet> {
  return startE2eFleet({
    redisUrl: options.redis?.url,
    databaseUrl: options.postgres?.url(),
    apiEnv: options.apiEnv,
    workers: options.workers,
    worker: { args: FAULT_WORKER_ARGS, ...options.worker },
  });
}

/** Every event of an experiment's Redis Stream, in order. */
export async function streamEvents(fleet: E2eFleet, experimentId: string): Promise<ExperimentEvent[]> {
  const redis = createRedisConnection(fleet.harness.redisUrl);
  try {
    const entries = await redis.xrange(eventStreamKey(fleet.harness.queuePrefix, experimentId), '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('data') + 1] ?? '{}') as ExperimentEvent);
  } finally {
    redis.disconnect();
  }
}

/** The terminal status events (succeeded/failed/cancelled) an experiment's stream holds: a run completed twice shows two. */
export async function finalStatusEvents(fleet: E2eFleet, experimentId: string): Promise<string[]> {
  return (await streamEvents(fleet, experimentId))
    .filter((e): e is Extract<ExperimentEvent, { type: 'status' }> => e.type === 'status' && ['succeeded', 'failed', 'cancelled'].includes(e.status))
    .map((e) => e.status);
}
