// Environment parsing shared by every app. Pure: reads the env object it is given, never
// process.env directly, so tests can feed it anything. Invalid values fail with one line that
// names the variable and says what is wrong.
import path from 'node:path';
import { hashTagOf, parseRedisUrl, RedisUrlError, type RedisTarget } from './redis-target.js';
import { parseArtifactsUrl, type ArtifactsLocation } from './artifacts-url.js';
import { ConfigError } from './config-error.js';

export interface FleetConfig {
  /** Postgres connection string. Default postgresql://postgres@127.0.0.1:5432/finetune_fleet (required when NODE_ENV=production). */
  databaseUrl: string;
  /**
   * Redis connection string: redis:// or rediss:// (one server), redis+cluster:// (Redis Cluster
   * seeds) or redis+sentinel:// (see redis-target.ts). Default redis://127.0.0.1:6379 (required when NODE_ENV=production).
   */
  redisUrl: string;
  /** Folder holding datasets in ImageFolder layout, one sub-folder per dataset. Default ./data */
  dataRoot: string;
  /** Folder holding pretrained .pth files. Default ./weights */
  weightsRoot: string;
  /**
   * Folder for checkpoints and model files, one sub-folder per experiment. Default ./artifacts.
   * Without artifactStore it must be shared by every machine; with one it is this machine's
   * working folder and cache.
   */
  artifactsDir: string;
  /** ARTIFACTS_URL: the store shared across machines (s3://bucket/prefix or file:///path). Default: none */
  artifactStore: ArtifactsLocation | undefined;
  /** HTTP port of the API. Default 3000 */
  port: number;
  /** When set, every /api route requires header x-api-key with this value. */
  apiKey: string | undefined;
  /** Largest number of runs one sweep may expand to. Default 1000 */
  maxSweepRuns: number;
  /**
   * BullMQ queue name prefix; lets tests and several deployments share one Redis. Default "fleet",
   * "{fleet}" on a Redis Cluster, where it must hold a hash tag (every key of a queue in one slot).
   */
  queuePrefix: string;
  /**
   * Days a finished run keeps its files under ARTIFACTS_DIR (model files, predictions, checkpoint)
   * before the API removes them; its metrics stay. 0 keeps them forever. Default 0
   */
  artifactsRetentionDays: number;
  /**
   * When set, GET /metrics (API) and the worker's metrics port answer only requests with
   * `Authorization: Bearer <token>`; unset, they are open (scraped on an internal network).
   */
  metricsToken: string | undefined;
  /**
   * Postgres connections this process may hold (DATABASE_POOL_MAX). Default: unset, each app picks
   * its own (the API 10, a worker its concurrency + 1). Postgres allows 100 in all by default, so a
   * large fleet either keeps this small or connects through PgBouncer (README "Connection budget").
   */
  databasePoolMax: number | undefined;
}

export { ConfigError };

export const CONFIG_DEFAULTS = {
  databaseUrl: 'postgresql://postgres@127.0.0.1:5432/finetune_fleet',
  redisUrl: 'redis://127.0.0.1:6379',
  dataRoot: './data',
  weightsRoot: './weights',
  artifactsDir: './artifacts',
  port: 3000,
  maxSweepRuns: 1000,
  queuePrefix: 'fleet',
  clusterQueuePrefix: '{fleet}',
  artifactsRetentionDays: 0,
} as const;

type Env = Record<string, string | undefined>;

function rawUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined) {
    if (env.NODE_ENV === 'production') throw new ConfigError(name, 'is missing (required when NODE_ENV=production)');
    return fallback;
  }
  if (raw.trim() === '') throw new ConfigError(name, 'is empty');
  return raw;
}

function urlVar(env: Env, name: string, protocols: string[], fallback: string): string {
  const raw = rawUrl(env, name, fallback);
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

function redisVar(env: Env): { url: string; target: RedisTarget } {
  const url = rawUrl(env, 'REDIS_URL', CONFIG_DEFAULTS.redisUrl);
  try {
    return { url, target: parseRedisUrl(url) };
  } catch (err) {
    if (err instanceof RedisUrlError) throw new ConfigError('REDIS_URL', err.message);
    throw err;
  }
}

/**
 * On a Redis Cluster every key of a queue (BullMQ's Lua scripts touch many at once) must hash to
 * one slot, so the prefix needs a hash tag. The default gets one; an explicit prefix without one is
 * refused rather than rewritten, so the keys are always the ones the operator wrote down.
 */
function queuePrefixVar(env: Env, target: RedisTarget): string {
  const raw = env.QUEUE_PREFIX;
  const cluster = target.mode === 'cluster';
  if (raw === undefined || raw.trim() === '') return cluster ? CONFIG_DEFAULTS.clusterQueuePrefix : CONFIG_DEFAULTS.queuePrefix;
  if (cluster && hashTagOf(raw) === undefined) {
    throw new ConfigError('QUEUE_PREFIX', `must contain a hash tag such as "{${raw.replace(/[{}]/g, '') || 'fleet'}}" when REDIS_URL is a Redis Cluster (got "${raw}"): every key of a queue must hash to one slot`);
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
  const metricsToken = env.METRICS_TOKEN;
  const databaseUrl = urlVar(env, 'DATABASE_URL', ['postgresql:', 'postgres:'], CONFIG_DEFAULTS.databaseUrl);
  const redis = redisVar(env);
  return {
    databaseUrl,
    redisUrl: redis.url,
    dataRoot: dirVar(env, 'DATA_ROOT', CONFIG_DEFAULTS.dataRoot, cwd),
    weightsRoot: dirVar(env, 'WEIGHTS_ROOT', CONFIG_DEFAULTS.weightsRoot, cwd),
    artifactsDir: dirVar(env, 'ARTIFACTS_DIR', CONFIG_DEFAULTS.artifactsDir, cwd),
    artifactStore: env.ARTIFACTS_URL === undefined ? undefined : parseArtifactsUrl(env.ARTIFACTS_URL, env),
    port: intVar(env, 'PORT', CONFIG_DEFAULTS.port, 1, 65535),
    apiKey: apiKey === undefined || apiKey === '' ? undefined : apiKey,
    maxSweepRuns: intVar(env, 'MAX_SWEEP_RUNS', CONFIG_DEFAULTS.maxSweepRuns, 1, 1_000_000),
    queuePrefix: queuePrefixVar(env, redis.target),
    artifactsRetentionDays: intVar(env, 'ARTIFACTS_RETENTION_DAYS', CONFIG_DEFAULTS.artifactsRetentionDays, 0, 36_500),
    metricsToken: metricsToken === undefined || metricsToken === '' ? undefined : metricsToken,
    databasePoolMax: env.DATABASE_POOL_MAX === undefined || env.DATABASE_POOL_MAX === '' ? undefined : intVar(env, 'DATABASE_POOL_MAX', 0, 1, 1000),
  };
}

/** The URL with its password masked, for log lines (multi-host cluster/sentinel URLs too). */
export function redactUrl(url: string): string {
  const masked = url.replace(/^([a-z+]+:\/\/[^:@/?#]*:)[^@/?#]*@/i, '$1***@').replace(/([?&]sentinelPassword=)[^&#]*/, '$1***');
  if (masked !== url) return masked;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
