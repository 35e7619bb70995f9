// Entry point of the API: load and validate the environment, fail fast with one line when Postgres
// or Redis is unreachable, then serve.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, StartupError, assertReachable, loadConfig } from '@fleet/config';
import { DEFAULT_API_OPTIONS, type RateLimitOptions } from './api-options.js';
import { createApp } from './app.factory.js';

/** RATE_LIMIT="burst/perSecond" (e.g. "60/10"), or "off". */
function rateLimitFromEnv(raw: string | undefined): RateLimitOptions | false {
  if (raw === undefined || raw === '') return DEFAULT_API_OPTIONS.rateLimit;
  if (raw === 'off') return false;
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(raw.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new ConfigError('RATE_LIMIT', `must be "burst/perSecond" like "60/10" or "off" (got "${raw}")`);
  return { burst: Number(m[1]), perSecond: Number(m[2]) };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const rateLimit = rateLimitFromEnv(process.env.RATE_LIMIT);
  await assertReachable('Postgres', config.databaseUrl, 'DATABASE_URL');
  await assertReachable('Redis', config.redisUrl, 'REDIS_URL');
  const app = await createApp(config, { rateLimit });
  await app.listen(config.port);
  new Logger('Api').log(`listening on http://localhost:${config.port} (API under /api, docs at /docs)${config.apiKey ? ', API key required' : ''}`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) process.stderr.write(`finetune-api: ${err.message}\n`);
  else process.stderr.write(`finetune-api: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
