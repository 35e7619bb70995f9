// The API's shared Redis connection for short commands (cancel flags, pub/sub publish, stream
// writes, health). Blocking stream reads never use it: each SSE client gets a duplicate.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { closeConnection, createRedisConnection, type RedisConnection } from '@fleet/queue';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';

export const REDIS = Symbol('REDIS');

/** Fail fast while Redis is away instead of queueing commands until it returns. */
export function createRedis(url: string, logger: Logger): RedisConnection {
  const redis = createRedisConnection(url, { maxRetriesPerRequest: 1, connectTimeout: 3000, lazyConnect: false });
  redis.on('error', (err: Error) => logger.warn(`Redis: ${err.message}`));
  return redis;
}

/** QUIT when connected (lets replies drain); otherwise stop reconnecting at once. */
export function closeRedis(redis: RedisConnection): Promise<void> {
  return closeConnection(redis);
}

export const redisProvider = {
  provide: REDIS,
  inject: [FLEET_CONFIG],
  useFactory: (config: FleetConfig): RedisConnection => createRedis(config.redisUrl, new Logger('Redis')),
};

@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}
