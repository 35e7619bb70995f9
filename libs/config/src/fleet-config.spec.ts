import path from 'node:path';
import { CONFIG_DEFAULTS, ConfigError, loadConfig, redactUrl } from './fleet-config.js';

describe('loadConfig', () => {
  it('applies the documented defaults on an empty environment', () => {
    const config = loadConfig({}, '/srv/fleet');
    expect(config).toEqual({
      databaseUrl: CONFIG_DEFAULTS.databaseUrl,
      redisUrl: CONFIG_DEFAULTS.redisUrl,
      dataRoot: path.resolve('/srv/fleet/data'),
      weightsRoot: path.resolve('/srv/fleet/weights'),
      artifactsDir: path.resolve('/srv/fleet/artifacts'),
      artifactStore: undefined,
      port: 3000,
      apiKey: undefined,
      maxSweepRuns: 1000,
      queuePrefix: 'fleet',
      artifactsRetentionDays: 0,
      metricsToken: undefined,
      databasePoolMax: undefined,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://u:p@db:5432/x',
        REDIS_URL: 'redis://cache:6380',
        DATA_ROOT: '/d',
        WEIGHTS_ROOT: '/w',
        ARTIFACTS_DIR: '/a',
        PORT: '8080',
        API_KEY: 'secret',
        MAX_SWEEP_RUNS: '50',
        QUEUE_PREFIX: 'ci',
        ARTIFACTS_RETENTION_DAYS: '30',
        METRICS_TOKEN: 'scrape',
        DATABASE_POOL_MAX: '3',
      },
      '/',
    );
    expect(config).toMatchObject({ port: 8080, apiKey: 'secret', maxSweepRuns: 50, dataRoot: '/d', queuePrefix: 'ci', artifactsRetentionDays: 30, metricsToken: 'scrape', databasePoolMax: 3 });
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'DATABASE_URL is missing (required when NODE_ENV=production)'],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' }, 'REDIS_URL is missing'],
    [{ DATABASE_URL: '' }, 'DATABASE_URL is empty'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL is not a URL'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL must start with postgresql:// or postgres://'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL must start with redis://, rediss://, redis+cluster://'],
    [{ REDIS_URL: 'redis+cluster://a:7000,b:x' }, 'REDIS_URL has an invalid host "b:x"'],
    [{ REDIS_URL: 'redis+cluster://a:7000', QUEUE_PREFIX: 'prod' }, 'QUEUE_PREFIX must contain a hash tag such as "{prod}" when REDIS_URL is a Redis Cluster'],
    [{ REDIS_URL: 'redis+cluster://a:7000', QUEUE_PREFIX: '{}prod' }, 'QUEUE_PREFIX must contain a hash tag'],
    [{ PORT: 'eighty' }, 'PORT must be an integer'],
    [{ PORT: '70000' }, 'PORT must be between 1 and 65535'],
    [{ MAX_SWEEP_RUNS: '0' }, 'MAX_SWEEP_RUNS must be between'],
    [{ DATA_ROOT: ' ' }, 'DATA_ROOT is empty'],
    [{ ARTIFACTS_RETENTION_DAYS: '-1' }, 'ARTIFACTS_RETENTION_DAYS must be an integer'],
    [{ ARTIFACTS_RETENTION_DAYS: '7.5' }, 'ARTIFACTS_RETENTION_DAYS must be an integer'],
    [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX must be between 1 and 1000'],
  ])('rejects %j with one clear line', (env, expected) => {
    let error: unknown;
    try {
      loadConfig(env, '/');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(expected);
    expect((error as Error).message).not.toContain('\n');
  });

  it('masks passwords in URLs for logs', () => {
    expect(redactUrl('postgresql://u:secret@h/db')).toBe('postgresql://u:***@h/db');
    expect(redactUrl('rediss+cluster://app:secret@a:1,b:2')).toBe('rediss+cluster://app:***@a:1,b:2');
    expect(redactUrl('redis+sentinel://s:1/m?sentinelPassword=secret')).toBe('redis+sentinel://s:1/m?sentinelPassword=***');
    expect(redactUrl('redis://cache:6379/0')).toBe('redis://cache:6379/0');
  });

  it('gives a cluster the hash-tagged default prefix and keeps an explicit tagged one', () => {
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:7000,b:7001' }, '/')).toMatchObject({ redisUrl: 'redis+cluster://a:7000,b:7001', queuePrefix: '{fleet}' });
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:7000', QUEUE_PREFIX: 'prod:{fleet}' }, '/').queuePrefix).toBe('prod:{fleet}');
    // Sentinel serves one master: any prefix works there.
    expect(loadConfig({ REDIS_URL: 'redis+sentinel://s:26379/m', QUEUE_PREFIX: 'prod' }, '/').queuePrefix).toBe('prod');
  });
});
