// GET /api/experiments/:id/events: entries XADDed to the experiment's stream arrive as SSE events,
// a reconnect with Last-Event-ID resumes after the given entry, a final status ends the stream.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { eventStreamKey, type ExperimentEvent } from '@fleet/queue';
import { startApi, type ApiTestContext } from './api-app.js';

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Opens an SSE stream; `events` fills as frames arrive, `ended` resolves when the server closes it. */
function follow(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  let status = 0;
  let req: http.ClientRequest | undefined;
  let closing = false;
  const ended = new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => (closing ? resolve() : reject(err));
    req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      status = res.statusCode ?? 0;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const e: SseEvent = { event: 'message', data: '' };
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.data = line.slice(6);
          }
          if (frame.split('\n').some((l) => !l.startsWith(':'))) events.push(e);
        }
      });
      res.on('end', () => resolve());
      res.on('error', failed);
    });
    req.on('error', failed);
  });
  const close = async (): Promise<void> => {
    closing = true;
    req?.destroy();
    await ended;
  };
  return { events, ended, status: () => status, close };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('API experiment events (SSE)', () => {
  let ctx: ApiTestContext;
  let base: string;
  beforeAll(async () => {
    ctx = await startApi({}, { sseBlockMs: 200 });
    await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await ctx.close();
  });

  async function newExperiment(): Promise<string> {
    const res = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs: 2 });
    return res.body.id as string;
  }

  async function xadd(id: string, event: ExperimentEvent): Promise<string> {
    return (await ctx.redis.xadd(eventStreamKey(ctx.config.queuePrefix, id), '*', 'data', JSON.stringify(event))) as string;
  }

  const epoch = (experimentId: string, n: number): ExperimentEvent => ({
    type: 'epoch',
    experimentId,
    metrics: { epoch: n, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, lrs: [0.001], seconds: 1, imagesPerSec: 1, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 },
  });

  it('sends a snapshot, relays new stream entries with their ids, and ends on a final status', async () => {
    const id = await newExperiment();
    const stream = follow(`${base}/api/experiments/${id}/events`);
    await until(() => stream.events.length >= 1, 'the snapshot');
    expect(stream.status()).toBe(200);
    expect(stream.events[0]!.event).toBe('snapshot');
    expect(JSON.parse(stream.events[0]!.data)).toMatchObject({ type: 'snapshot', experimentId: id, status: 'queued', epochs: [] });

    const running = await xadd(id, { type: 'status', experimentId: id, status: 'running', at: new Date().toISOString() });
    const e1 = await xadd(id, epoch(id, 1));
    await until(() => stream.events.length >= 3, 'two relayed events');
    expect(stream.events.slice(1).map((e) => [e.event, e.id])).toEqual([
      ['status', running],
      ['epoch', e1],
    ]);
    expect(JSON.parse(stream.events[2]!.data)).toMatchObject({ type: 'epoch', metrics: { epoch: 1 } });

    await xadd(id, { type: 'status', experimentId: id, status: 'succeeded', at: new Date().toISOString() });
    await stream.ended;
    expect(stream.events.at(-1)!.event).toBe('status');
  });

  it('resumes after Last-Event-ID with the entries the client missed', async () => {
    const id = await newExperiment();
    const first = await xadd(id, epoch(id, 1));
    const second = await xadd(id, epoch(id, 2));
    const third = await xadd(id, { type: 'progress', experimentId: id, epoch: 3, phase: 'train', batch: 1, batches: 4, loss: 0.7 });
    const stream = follow(`${base}/api/experiments/${id}/events`, { 'Last-Event-ID': first });
    await until(() => stream.events.length >= 3, 'the missed entries');
    expect(stream.events.map((e) => [e.event, e.id])).toEqual([
      ['snapshot', undefined],
      ['epoch', second],
      ['progress', third],
    ]);
    await stream.close();
  });

  it('ends the stream of a cancelled experiment with the status event the cancel wrote', async () => {
    const id = await newExperiment();
    const stream = follow(`${base}/api/experiments/${id}/events`);
    await until(() => stream.events.length >= 1, 'the snapshot');
    expect((await request(ctx.server).post(`/api/experiments/${id}/cancel`)).status).toBe(200);
    await stream.ended;
    expect(JSON.parse(stream.events.at(-1)!.data)).toMatchObject({ type: 'status', status: 'cancelled' });
  });

  it('closes the dedicated Redis connection when the client leaves', async () => {
    const id = await newExperiment();
    const clients = async () => (String(await ctx.redis.client('LIST')).match(/cmd=xread/g) ?? []).length;
    const before = await clients();
    const stream = follow(`${base}/api/experiments/${id}/events`);
    await until(() => stream.events.length >= 1, 'the snapshot');
    let blocked = 0;
    const deadline = Date.now() + 5000;
    while ((blocked = await clients()) <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(blocked).toBeGreaterThan(before);
    await stream.close();
    const gone = Date.now() + 5000;
    while ((await clients()) > before && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
    expect(await clients()).toBe(before);
  });

  it('404 for an unknown experiment, 400 for a malformed Last-Event-ID', async () => {
    expect((await request(ctx.server).get('/api/experiments/00000000-0000-4000-8000-000000000000/events')).status).toBe(404);
    const id = await newExperiment();
    const bad = await request(ctx.server).get(`/api/experiments/${id}/events`).set('Last-Event-ID', 'yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('Last-Event-ID');
  });
});
