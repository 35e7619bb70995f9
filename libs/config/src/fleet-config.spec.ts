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
      port: 3000,
      apiKey: undefined,
      maxSweepRuns: 1000,
      queuePrefix: 'fleet',
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
        DATABASE_POOL_MAX: '3',
      },
      '/',
    );
    expect(config).toMatchObject({ port: 8080, apiKey: 'secret', maxSweepRuns: 50, dataRoot: '/d', queuePrefix: 'ci', databasePoolMax: 3 });
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'DATABASE_URL is missing (required when NODE_ENV=production)'],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' }, 'REDIS_URL is missing'],
    [{ DATABASE_URL: '' }, 'DATABASE_URL is empty'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL is not a URL'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL must start with postgresql:// or postgres://'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL must start with redis:// or rediss://'],
    [{ PORT: 'eighty' }, 'PORT must be an integer'],
    [{ PORT: '70000' }, 'PORT must be between 1 and 65535'],
    [{ MAX_SWEEP_RUNS: '0' }, 'MAX_SWEEP_RUNS must be between'],
    [{ DATA_ROOT: ' ' }, 'DATA_ROOT is empty'],
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
  });
});
