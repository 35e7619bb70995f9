// GET /api/experiments: filters, sorts and keyset cursor pagination over rows inserted directly.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startApi, type ApiTestContext } from './api-app.js';

interface Item {
  id: string;
  status: string;
  strategy: string;
  bestValAcc: number | null;
  createdAt: string;
}

describe('API experiment listing', () => {
  let ctx: ApiTestContext;
  const ids: string[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    ctx = await startApi();
    // 12 rows: strategies alternate, every third succeeded with an accuracy, two rows share a createdAt.
    const rows = Array.from({ length: 12 }, (_, i) => {
      const id = randomUUID();
      ids.push(id);
      const done = i % 3 === 0;
      return {
        id,
        dataset: ctx.dataset,
        strategy: i % 2 === 0 ? 'scratch' : 'freeze',
        weights: i % 2 === 0 ? null : 'w.pth',
        lr: 0.001, lrFactor: 0.1, momentum: 0.9, weightDecay: 0, epochs: 2, batchSize: 4, imageSize: 32, seed: i, stepSize: 7, gamma: 0.1,
        status: done ? ('succeeded' as const) : ('queued' as const),
        bestValAcc: done ? 0.5 + (i % 4) / 10 : null,
        createdAt: new Date(t0 + (i === 11 ? 10 : i) * 1000),
      };
    });
    await ctx.prisma.experiment.createMany({ data: rows });
  });
  afterAll(async () => {
    await ctx.close();
  });

  async function all(query: string): Promise<Item[][]> {
    const pages: Item[][] = [];
    let cursor: string | null = null;
    do {
      const res = await request(ctx.server).get(`/api/experiments?dataset=${ctx.dataset}&${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body.items as Item[]);
      cursor = res.body.nextCursor as string | null;
    } while (cursor !== null && pages.length < 20);
    return pages;
  }

  it('pages newest first through every row exactly once, ties broken by id', async () => {
    const pages = await all('limit=5');
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    const got = pages.flat();
    expect(new Set(got.map((r) => r.id)).size).toBe(12);
    const times = got.map((r) => Date.parse(r.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('sorts ascending by createdAt', async () => {
    const got = (await all('limit=4&order=asc')).flat();
    expect(got.map((r) => r.id).slice(0, 3)).toEqual(ids.slice(0, 3));
    expect(got).toHaveLength(12);
  });

  it('sorts by bestValAcc with the rows without one last, across pages', async () => {
    const got = (await all('limit=3&sort=bestValAcc')).flat();
    expect(got).toHaveLength(12);
    const accs = got.map((r) => r.bestValAcc);
    expect(accs.slice(0, 4)).toEqual([0.8, 0.7, 0.6, 0.5]);
    expect(accs.slice(4).every((a) => a === null)).toBe(true);
    expect(new Set(got.map((r) => r.id)).size).toBe(12);
  });

  it('filters by status and strategy', async () => {
    const done = (await all('status=succeeded')).flat();
    expect(done).toHaveLength(4);
    expect(done.every((r) => r.status === 'succeeded')).toBe(true);
    const freeze = (await all('strategy=freeze&status=queued')).flat();
    expect(freeze.map((r) => r.strategy)).toEqual(Array(4).fill('freeze'));
  });

  it('rejects a bad limit, a bad filter value and a forged cursor with 400', async () => {
    for (const [query, field] of [
      ['limit=501', 'limit'],
      ['limit=abc', 'limit'],
      ['status=done', 'status'],
      ['sort=name', 'sort'],
      ['cursor=bm9wZQ', 'cursor'],
      ['foo=1', 'foo'],
    ] as const) {
      const res = await request(ctx.server).get(`/api/experiments?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.field).toBe(field);
    }
    const first = await request(ctx.server).get(`/api/experiments?dataset=${ctx.dataset}&limit=2`);
    const mixed = await request(ctx.server).get(`/api/experiments?dataset=${ctx.dataset}&sort=bestValAcc&cursor=${first.body.nextCursor as string}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.message).toContain('sort=createdAt');
  });
});
