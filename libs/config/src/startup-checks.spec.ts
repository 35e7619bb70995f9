import net from 'node:net';
import { assertReachable, StartupError } from './startup-checks.js';

describe('assertReachable', () => {
  it('passes for a listening port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await expect(assertReachable('Redis', `redis://127.0.0.1:${port}`, 'REDIS_URL')).resolves.toBeUndefined();
    server.close();
  });

  it('fails with one line naming the service, the URL and the variable', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const check = assertReachable('Redis', `redis://:pw@127.0.0.1:${port}`, 'REDIS_URL');
    await expect(check).rejects.toBeInstanceOf(StartupError);
    await expect(check).rejects.toThrow(`cannot reach Redis at redis://:***@127.0.0.1:${port} (REDIS_URL): ECONNREFUSED`);
  });

  it('passes a cluster or sentinel URL when one node of the list answers, and names each when none does', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const dead = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(assertReachable('Redis', `redis+cluster://127.0.0.1:${dead},127.0.0.1:${port}`, 'REDIS_URL')).resolves.toBeUndefined();
    await expect(assertReachable('Redis', `redis+sentinel://127.0.0.1:${port}/m`, 'REDIS_URL')).resolves.toBeUndefined();
    server.close();
    await expect(assertReachable('Redis', `redis+cluster://:pw@127.0.0.1:${dead},127.0.0.1:${dead}`, 'REDIS_URL')).rejects.toThrow(
      `cannot reach Redis at redis+cluster://:***@127.0.0.1:${dead},127.0.0.1:${dead} (REDIS_URL): 127.0.0.1:${dead} ECONNREFUSED, 127.0.0.1:${dead} ECONNREFUSED`,
    );
  });
});
