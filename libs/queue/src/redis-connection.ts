// The one place that turns REDIS_URL into an ioredis client: a plain Redis for redis:// and
// rediss://, a Cluster for redis+cluster:// (BullMQ 6 takes either as its connection), and a
// Sentinel-backed Redis for redis+sentinel://. Every app and test builds its connections here, so a
// topology is supported everywhere or nowhere.
// Keys stay in one slot per queue only through the QUEUE_PREFIX hash tag that loadConfig enforces;
// nothing here rewrites keys (no ioredis keyPrefix: BullMQ refuses it).
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from '@fleet/config';

/**
 * How long a cluster client keeps retrying a command through a master restart or failover (node
 * refusing connections, CLUSTERDOWN, MOVED back and forth while the slot map settles) before the
 * command fails. ioredis's defaults (16 redirections, 0-100 ms apart) give up within ~2 s, less than
 * a master restart takes, and a managed service's failover takes 10-30 s.
 */
export const CLUSTER_RETRY_DELAY_MS = 200;
export const CLUSTER_PATIENCE_MS = 30_000;

/** A client of any supported topology. Both classes share ioredis's command interface. */
export type RedisConnection = Redis | Cluster;

/**
 * Per-connection client settings, as for a single server; for a cluster they apply to the
 * connection to every node, except lazyConnect which applies to the cluster client.
 */
export type RedisConnectionOptions = Pick<RedisOptions, 'maxRetriesPerRequest' | 'connectTimeout' | 'lazyConnect' | 'enableReadyCheck'>;

export function createRedisConnection(url: string, options: RedisConnectionOptions = {}): RedisConnection {
  return connectTo(parseRedisUrl(url), options);
}

export function connectTo(target: RedisTarget, options: RedisConnectionOptions = {}): RedisConnection {
  switch (target.mode) {
    case 'standalone':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.masterName,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      });
    case 'cluster': {
      const { lazyConnect, ...perNode } = options;
      const clusterOptions: ClusterOptions = {
        ...(lazyConnect === undefined ? {} : { lazyConnect }),
        retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
        retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
        retryDelayOnTryAgain: CLUSTER_RETRY_DELAY_MS,
        // Immediate re-sends on MOVED ping-pong between nodes while a restarted master rejoins.
        retryDelayOnMoved: CLUSTER_RETRY_DELAY_MS,
        maxRedirections: Math.ceil(CLUSTER_PATIENCE_MS / CLUSTER_RETRY_DELAY_MS),
        redisOptions: {
          ...perNode,
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
        },
        // With TLS the nodes' certificates name hosts, not addresses: connect by the name the
        // cluster announces (ElastiCache, MemoryStore) instead of resolving it first.
        ...(target.tls ? { dnsLookup: (address: string, callback: (err: NodeJS.ErrnoException | null, address: string) => void) => callback(null, address) } : {}),
      };
      return new Cluster(target.nodes, clusterOptions);
    }
  }
}

/** A new client to the same Redis with the same settings (e.g. for blocking reads of one SSE client). */
export function duplicateConnection(connection: RedisConnection): RedisConnection {
  return connection instanceof Cluster ? connection.duplicate() : connection.duplicate();
}

/**
 * The clients to run a per-node command on (SCAN, INFO): the masters of a cluster (known once it
 * has loaded its slot map, hence the PING first), the connection itself otherwise.
 */
export async function nodesOf(connection: RedisConnection): Promise<Redis[]> {
  if (!(connection instanceof Cluster)) return [connection];
  await connection.ping();
  return connection.nodes('master');
}

/** QUIT when connected (lets replies drain); otherwise stop reconnecting at once. */
export async function closeConnection(connection: RedisConnection): Promise<void> {
  if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
  else connection.disconnect();
}
