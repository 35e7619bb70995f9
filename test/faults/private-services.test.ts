// The private services the fault tests restart: data survives a restart on the same port, so
// what a fault test observes after a restart is the system's behaviour, not the helper's.
import { Redis } from 'ioredis';
import pg from 'pg';
import { PrivatePostgres, PrivateRedis } from '../support/private-services.js';

describe('private services', () => {
  it('Redis keeps its data across a clean restart and a SIGKILL', async () => {
    const redis = await PrivateRedis.start();
    try {
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      await client.rpush('queue', 'a', 'b');
      await redis.restart('SIGTERM');
      await client.rpush('queue', 'c');
      await redis.restart('SIGKILL');
      expect(await client.lrange('queue', 0, -1)).toEqual(['a', 'b', 'c']);
      client.disconnect();
    } finally {
      await redis.destroy();
    }
  });

  it('Postgres is migrated and keeps committed rows across a fast and an immediate restart', async () => {
    const server = await PrivatePostgres.start();
    try {
      const db = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
        const c = new pg.Client({ connectionString: server.url() });
        await c.connect();
        try {
          return await fn(c);
        } finally {
          await c.end();
        }
      };
      await db((c) => c.query(`INSERT INTO "Worker"(id, host, pid, backend) VALUES ('w1', 'h', 1, 'cpu')`));
      await server.restart('fast');
      await db((c) => c.query(`INSERT INTO "Worker"(id, host, pid, backend) VALUES ('w2', 'h', 2, 'cpu')`));
      await server.restart('immediate');
      const rows = await db((c) => c.query<{ id: string }>(`SELECT id FROM "Worker" ORDER BY id`));
      expect(rows.rows.map((r) => r.id)).toEqual(['w1', 'w2']);
      const viaSocket = new pg.Client({ connectionString: server.socketUrl() });
      await viaSocket.connect();
      expect((await viaSocket.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
      await viaSocket.end();
    } finally {
      await server.destroy();
    }
  });
});
