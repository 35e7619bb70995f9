// What REDIS_URL points at: one Redis server, a Redis Cluster, or a master found through Sentinel.
// One variable for all three, told apart by the scheme, so a deployment switches topology by
// changing one secret and nothing else:
//
//   redis://[user:pass@]host:6379[/db]                         one server (rediss:// = TLS)
//   redis+cluster://[user:pass@]host1:6379,host2:6379          Redis Cluster seed nodes (rediss+cluster:// = TLS)
//   redis+sentinel://[user:pass@]host1:26379,host2:26379/name[/db][?sentinelPassword=...]
//
// Pure parsing (no client here): libs/queue builds the ioredis client from the result. The mode is
// never guessed from the server (e.g. CLUSTER INFO at boot): the key prefix depends on it, and a
// deployment must not change its keys because a server was configured differently one day.

/** A host and port as given in the URL. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisAuth {
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | ({ mode: 'cluster'; nodes: RedisEndpoint[]; tls: boolean } & RedisAuth)
  | ({ mode: 'sentinel'; sentinels: RedisEndpoint[]; masterName: string; db: number; sentinelPassword?: string } & RedisAuth);

export const REDIS_DEFAULT_PORT = 6379;
export const SENTINEL_DEFAULT_PORT = 26379;

/** Invalid REDIS_URL; the message is one line without the password. */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const MULTI_HOST = /^(redis|rediss)\+(cluster|sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/;

function endpoint(text: string, defaultPort: number): RedisEndpoint {
  // [v6]:port, host:port, host
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) throw new RedisUrlError(`has an invalid host "${text}" (expected host:port)`);
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) throw new RedisUrlError(`has an invalid port ${port} in "${text}"`);
  return { host: (match[1] ?? match[2]) as string, port };
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RedisUrlError(`has an invalid percent-encoding in its ${what}`);
  }
}

function auth(userinfo: string | undefined): RedisAuth {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user');
  const password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1), 'password');
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** Parses REDIS_URL. Throws RedisUrlError (message to follow the variable's name). */
export function parseRedisUrl(raw: string): RedisTarget {
  const multi = MULTI_HOST.exec(raw);
  if (!multi) {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new RedisUrlError(`is not a URL: "${raw}"`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new RedisUrlError(`must start with redis://, rediss://, redis+cluster://, rediss+cluster:// or redis+sentinel:// (got "${parsed.protocol}//")`);
    }
    return { mode: 'standalone', url: raw };
  }
  const [, scheme, mode, userinfo, hostList, pathPart = '', query] = multi as unknown as [string, string, 'cluster' | 'sentinel', string | undefined, string, string | undefined, string | undefined];
  if (hostList === '') throw new RedisUrlError(`names no host (expected ${mode === 'cluster' ? 'host1:6379,host2:6379' : 'host1:26379,host2:26379/mastername'})`);
  const params = new URLSearchParams(query ?? '');
  const credentials = auth(userinfo);
  const segments = pathPart.split('/').filter((s) => s !== '');

  if (mode === 'cluster') {
    if (segments.length > 1 || (segments.length === 1 && segments[0] !== '0')) throw new RedisUrlError('of a cluster cannot select a database (a Redis Cluster has only database 0)');
    for (const name of params.keys()) throw new RedisUrlError(`has an unknown parameter "${name}" (a cluster URL takes none)`);
    return { mode, nodes: hostList.split(',').map((h) => endpoint(h, REDIS_DEFAULT_PORT)), tls: scheme === 'rediss', ...credentials };
  }

  if (scheme === 'rediss') throw new RedisUrlError('uses rediss+sentinel://, which is not supported (TLS is supported for redis:// and redis+cluster:// only)');
  const [masterName, dbText, ...rest] = segments;
  if (masterName === undefined) throw new RedisUrlError('names no master (expected redis+sentinel://host:26379/mastername)');
  if (rest.length > 0 || (dbText !== undefined && !/^\d{1,2}$/.test(dbText))) throw new RedisUrlError(`has an invalid path "${pathPart}" (expected /mastername or /mastername/db)`);
  let sentinelPassword: string | undefined;
  for (const [name, value] of params) {
    if (name !== 'sentinelPassword') throw new RedisUrlError(`has an unknown parameter "${name}" (a sentinel URL takes sentinelPassword only)`);
    sentinelPassword = value;
  }
  return {
    mode,
    sentinels: hostList.split(',').map((h) => endpoint(h, SENTINEL_DEFAULT_PORT)),
    masterName: decode(masterName, 'master name'),
    db: dbText === undefined ? 0 : Number(dbText),
    ...(sentinelPassword ? { sentinelPassword } : {}),
    ...credentials,
  };
}

/** The TCP endpoints a client first connects to (the server, the cluster seeds or the sentinels). */
export function redisEntryPoints(target: RedisTarget): RedisEndpoint[] {
  switch (target.mode) {
    case 'standalone': {
      const u = new URL(target.url);
      return [{ host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || REDIS_DEFAULT_PORT) }];
    }
    case 'cluster':
      return target.nodes;
    case 'sentinel':
      return target.sentinels;
  }
}

/**
 * The hash tag of a key prefix as Redis Cluster reads it: the text between the first "{" and the
 * next "}", when not empty. Keys sharing it share a slot. Undefined when the prefix has none.
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}
