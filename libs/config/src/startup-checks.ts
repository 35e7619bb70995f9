// Fail-fast checks every app runs at boot: one clear line naming the unreachable service,
// instead of a retry loop or a stack trace from deep inside a driver.
import net from 'node:net';
import { redactUrl } from './fleet-config.js';
import { parseRedisUrl, redisEntryPoints } from './redis-target.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

function reachable(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (error?: string): void => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/**
 * Checks a TCP endpoint of a service URL answers; throws StartupError with one line if not. For a
 * Redis Cluster or Sentinel URL one answering node of the list is enough: that is all the client
 * needs to find the others.
 */
export async function assertReachable(service: 'Postgres' | 'Redis', url: string, variable: string, timeoutMs = 3000): Promise<void> {
  let endpoints: { host: string; port: number }[];
  if (service === 'Redis') endpoints = redisEntryPoints(parseRedisUrl(url));
  else {
    const u = new URL(url);
    endpoints = [{ host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || 5432) }];
  }
  const errors = await Promise.all(endpoints.map((e) => reachable(e.host, e.port, timeoutMs)));
  if (errors.some((e) => e === undefined)) return;
  const detail = endpoints.length === 1 ? (errors[0] as string) : endpoints.map((e, i) => `${e.host}:${e.port} ${errors[i] as string}`).join(', ');
  throw new StartupError(`cannot reach ${service} at ${redactUrl(url)} (${variable}): ${detail}`);
}
