import { Cluster, Redis } from 'ioredis';
import { CLUSTER_PATIENCE_MS, CLUSTER_RETRY_DELAY_MS, createRedisConnection } from './redis-connection.js';

// lazyConnect: nothing here opens a socket; the options the clients were built with are checked.
describe('createRedisConnection', () => {
  it('builds a plain client for redis://', () => {
    const redis = createRedisConnection('redis://:pw@cache:6380/2', { lazyConnect: true, maxRetriesPerRequest: null });
    expect(redis).toBeInstanceOf(Redis);
    expect((redis as Redis).options).toMatchObject({ host: 'cache', port: 6380, db: 2, password: 'pw', maxRetriesPerRequest: null });
  });

  it('builds a Cluster whose node options carry what BullMQ checks (maxRetriesPerRequest) and the credentials', () => {
    const cluster = createRedisConnection('redis+cluster://app:pw@a:7000,b:7001', { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: 3000 });
    expect(cluster).toBeInstanceOf(Cluster);
    const { options } = cluster as Cluster;
    expect(options).toMatchObject({ lazyConnect: true, maxRedirections: Math.ceil(CLUSTER_PATIENCE_MS / CLUSTER_RETRY_DELAY_MS), retryDelayOnMoved: CLUSTER_RETRY_DELAY_MS });
    expect(options.redisOptions).toEqual({ maxRetriesPerRequest: null, connectTimeout: 3000, username: 'app', password: 'pw' });
  });

  it('turns TLS on for every node of rediss+cluster:// and connects by host name', () => {
    const { options } = createRedisConnection('rediss+cluster://clustercfg.example:6379', { lazyConnect: true }) as Cluster;
    expect(options.redisOptions?.tls).toEqual({});
    const resolved = new Promise<string>((resolve) => options.dnsLookup?.('clustercfg.example', (_err, address) => resolve(address)));
    return expect(resolved).resolves.toBe('clustercfg.example');
  });

  it('builds a Sentinel-backed client for redis+sentinel://', () => {
    const redis = createRedisConnection('redis+sentinel://:pw@s1:26380,s2/main/1?sentinelPassword=sp', { lazyConnect: true }) as Redis;
    expect(redis).toBeInstanceOf(Redis);
    expect(redis.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      name: 'main',
      db: 1,
      password: 'pw',
      sentinelPassword: 'sp',
    });
  });
});
