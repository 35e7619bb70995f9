// Fail-fast checks every app runs at boot: one clear line naming the unreachable service,
// instead of a retry loop or a stack trace from deep inside a driver.
import net from 'node:net';
import { redactUrl } from './fleet-config.js';

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

/** Checks a TCP endpoint of a service URL answers; throws StartupError with one line if not. */
export async function assertReachable(service: 'Postgres' | 'Redis', url: string, variable: string, timeoutMs = 3000): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (service === 'Redis' ? 6379 : 5432));
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const error = await reachable(host, port, timeoutMs);
  if (error) throw new StartupError(`cannot reach ${service} at ${redactUrl(url)} (${variable}): ${error}`);
}
