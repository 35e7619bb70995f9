import { hashTagOf, parseRedisUrl, redisEntryPoints, RedisUrlError } from './redis-target.js';

describe('parseRedisUrl', () => {
  it('keeps redis:// and rediss:// URLs as they are (one server)', () => {
    expect(parseRedisUrl('redis://:pw@cache:6380/2')).toEqual({ mode: 'standalone', url: 'redis://:pw@cache:6380/2' });
    expect(parseRedisUrl('rediss://cache')).toEqual({ mode: 'standalone', url: 'rediss://cache' });
  });

  it('reads a cluster URL: every seed node, default port 6379, credentials, TLS from rediss+', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@clustercfg.x.cache.amazonaws.com:6379/')).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'clustercfg.x.cache.amazonaws.com', port: 6379 }],
      tls: true,
      username: 'app',
      password: 'p@ss',
    });
  });

  it('reads a sentinel URL: sentinels (default port 26379), master name, db, passwords', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@s1:26380,s2/mymaster/3?sentinelPassword=sp')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      db: 3,
      password: 'pw',
      sentinelPassword: 'sp',
    });
    expect(parseRedisUrl('redis+sentinel://s1/main')).toMatchObject({ masterName: 'main', db: 0 });
  });

  it.each([
    ['http://cache', 'must start with redis://, rediss://, redis+cluster://'],
    ['nonsense', 'is not a URL'],
    ['redis+cluster://', 'names no host'],
    ['redis+cluster://a:7000,,b:7001', 'invalid host ""'],
    ['redis+cluster://a:70000', 'invalid port 70000'],
    ['redis+cluster://a:7000/1', 'cannot select a database'],
    ['redis+cluster://a:7000?tls=1', 'unknown parameter "tls"'],
    ['redis+sentinel://s1:26379', 'names no master'],
    ['redis+sentinel://s1:26379/m/x', 'invalid path'],
    ['redis+sentinel://s1/m?password=x', 'unknown parameter "password"'],
    ['rediss+sentinel://s1/m', 'not supported'],
    ['redis+sentinel://s1/%E0%A4%A', 'invalid percent-encoding in its master name'],
    ['redis+cluster://:%zz@a:1', 'invalid percent-encoding in its password'],
  ])('rejects %s with one line', (url, expected) => {
    let error: unknown;
    try {
      parseRedisUrl(url);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RedisUrlError);
    expect((error as Error).message).toContain(expected);
  });
});

describe('redisEntryPoints', () => {
  it('lists the server, the seeds or the sentinels', () => {
    expect(redisEntryPoints(parseRedisUrl('redis://cache'))).toEqual([{ host: 'cache', port: 6379 }]);
    expect(redisEntryPoints(parseRedisUrl('redis+cluster://a:1,b:2'))).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect(redisEntryPoints(parseRedisUrl('redis+sentinel://s:3/m'))).toEqual([{ host: 's', port: 3 }]);
  });
});

describe('hashTagOf', () => {
  it.each([
    ['{fleet}', 'fleet'],
    ['prod{fleet}x', 'fleet'],
    ['{a}{b}', 'a'],
    ['fleet', undefined],
    ['{}fleet', undefined],
    ['{fleet', undefined],
    ['fleet}', undefined],
  ])('%s -> %s (as Redis Cluster reads it)', (prefix, tag) => {
    expect(hashTagOf(prefix)).toBe(tag);
  });
});
