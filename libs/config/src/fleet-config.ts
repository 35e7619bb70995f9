// Environment parsing shared by every app. Pure: reads the env object it is given, never
// process.env directly, so tests can feed it anything. Invalid values fail with one line that
// names the variable and says what is wrong.
import path from 'node:path';

export interface FleetConfig {
  /** Postgres connection string. Default postgresql://postgres@127.0.0.1:5432/finetune_fleet (required when NODE_ENV=production). */
  databaseUrl: string;
  /** Redis connection string. Default redis://127.0.0.1:6379 (required when NODE_ENV=production). */
  redisUrl: string;
  /** Folder holding datasets in ImageFolder layout, one sub-folder per dataset. Default ./data */
  dataRoot: string;
  /** Folder holding pretrained .pth files. Default ./weights */
  weightsRoot: string;
  /** Folder for checkpoints, one sub-folder per experiment. Default ./artifacts */
  artifactsDir: string;
  /** HTTP port of the API. Default 3000 */
  port: number;
  /** When set, every /api route requires header x-api-key with this value. */
  apiKey: string | undefined;
  /** Largest number of runs one sweep may expand to. Default 1000 */
  maxSweepRuns: number;
  /** BullMQ queue name prefix; lets tests and several deployments share one Redis. Default "fleet" */
  queuePrefix: string;
  /**
   * Postgres connections this process may hold (DATABASE_POOL_MAX). Default: unset, each app picks
   * its own (the API 10, a worker its concurrency + 1). Postgres allows 100 in all by default, so a
   * large fleet either keeps this small or connects through PgBouncer (README "Connection budget").
   */
  databasePoolMax: number | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

export const CONFIG_DEFAULTS = {
  databaseUrl: 'postgresql://postgres@127.0.0.1:5432/finetune_fleet',
  redisUrl: 'redis://127.0.0.1:6379',
  dataRoot: './data',
  weightsRoot: './weights',
  artifactsDir: './artifacts',
  port: 3000,
  maxSweepRuns: 1000,
  queuePrefix: 'fleet',
} as const;

type Env = Record<string, string | undefined>;

function urlVar(env: Env, name: string, protocols: string[], fallback: string): string {
  const raw = env[name];
  if (raw === undefined) {
    if (env.NODE_ENV === 'production') throw new ConfigError(name, 'is missing (required when NODE_ENV=production)');
    return fallback;
  }
  if (raw.trim() === '') throw new ConfigError(name, 'is empty');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got "${parsed.protocol}//")`);
  }
  return raw;
}

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

function dirVar(env: Env, name: string, fallback: string, cwd: string): string {
  const raw = env[name];
  if (raw !== undefined && raw.trim() === '') throw new ConfigError(name, 'is empty');
  return path.resolve(cwd, raw ?? fallback);
}

/** Parses and validates the environment. Throws ConfigError with one clear line. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): FleetConfig {
  const apiKey = env.API_KEY;
  return {
    databaseUrl: urlVar(env, 'DATABASE_URL', ['postgresql:', 'postgres:'], CONFIG_DEFAULTS.databaseUrl),
    redisUrl: urlVar(env, 'REDIS_URL', ['redis:', 'rediss:'], CONFIG_DEFAULTS.redisUrl),
    dataRoot: dirVar(env, 'DATA_ROOT', CONFIG_DEFAULTS.dataRoot, cwd),
    weightsRoot: dirVar(env, 'WEIGHTS_ROOT', CONFIG_DEFAULTS.weightsRoot, cwd),
    artifactsDir: dirVar(env, 'ARTIFACTS_DIR', CONFIG_DEFAULTS.artifactsDir, cwd),
    port: intVar(env, 'PORT', CONFIG_DEFAULTS.port, 1, 65535),
    apiKey: apiKey === undefined || apiKey === '' ? undefined : apiKey,
    maxSweepRuns: intVar(env, 'MAX_SWEEP_RUNS', CONFIG_DEFAULTS.maxSweepRuns, 1, 1_000_000),
    queuePrefix: env.QUEUE_PREFIX && env.QUEUE_PREFIX.trim() !== '' ? env.QUEUE_PREFIX : CONFIG_DEFAULTS.queuePrefix,
    databasePoolMax: env.DATABASE_POOL_MAX === undefined || env.DATABASE_POOL_MAX === '' ? undefined : intVar(env, 'DATABASE_POOL_MAX', 0, 1, 1000),
  };
}

/** The URL with its password masked, for log lines. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
