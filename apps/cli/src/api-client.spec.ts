import { ApiClient, formatApiError, parseSse, type SseMessage } from './api-client.js';

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of parseSse(stream(chunks))) out.push(m);
  return out;
}

describe('parseSse', () => {
  it('parses events split anywhere across chunks, with ids, names and comments', async () => {
    const text = ': keep-alive\n\nid: 1-0\nevent: snapshot\ndata: {"a":1}\n\nid: 2-0\r\nevent: progress\r\ndata: {"b":\r\ndata: 2}\r\n\r\n';
    const split = [text.slice(0, 7), text.slice(7, 30), text.slice(30, 61), text.slice(61)];
    expect(await collect(split)).toEqual([
      { id: '1-0', event: 'snapshot', data: '{"a":1}' },
      { id: '2-0', event: 'progress', data: '{"b":\n2}' },
    ]);
  });

  it('keeps the last id for events without one and defaults the name to message', async () => {
    expect(await collect(['id: 7\ndata: x\n\ndata: y\n\n'])).toEqual([
      { id: '7', event: 'message', data: 'x' },
      { id: '7', event: 'message', data: 'y' },
    ]);
  });

  it('drops an unterminated trailing event', async () => {
    expect(await collect(['data: complete\n\ndata: partial'])).toEqual([{ id: undefined, event: 'message', data: 'complete' }]);
  });
});

describe('formatApiError', () => {
  it('names the field of a validation error once', () => {
    expect(formatApiError(400, { statusCode: 400, message: 'lr must not be less than 0', field: 'lr' })).toBe('lr must not be less than 0');
    expect(formatApiError(400, { statusCode: 400, message: 'must be positive', field: 'epochs' })).toBe('epochs: must be positive');
  });

  it('falls back to the status when the body says nothing', () => {
    expect(formatApiError(502, undefined)).toBe('HTTP 502');
    expect(formatApiError(500, '  upstream failed ')).toBe('upstream failed');
  });
});

describe('ApiClient.followEvents', () => {
  it('reconnects after the server drops the stream and resumes with Last-Event-ID', async () => {
    const { createServer } = await import('node:http');
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      const last = req.headers['last-event-id'] as string | undefined;
      seen.push(last);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Each connection sends the entry after the one it resumes from, then drops.
      const next = last === undefined ? 1 : Number(last.split('-')[0]) + 1;
      res.end(`id: ${next}-0\nevent: progress\ndata: {"batch":${next}}\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const controller = new AbortController();
    const got: SseMessage[] = [];
    try {
      const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: '' });
      for await (const m of client.followEvents('x', { signal: controller.signal, maxBackoffMs: 10 })) {
        got.push(m);
        if (got.length === 3) break;
      }
    } finally {
      controller.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(got.map((m) => m.data)).toEqual(['{"batch":1}', '{"batch":2}', '{"batch":3}']);
    expect(seen.slice(0, 3)).toEqual([undefined, '1-0', '2-0']);
  });

  it('stops with exit code 3 when the experiment does not exist', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"statusCode":404,"message":"experiment x not found"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: '' });
      const consume = async (): Promise<void> => {
        for await (const _ of client.followEvents('x')) {
          // no events expected
        }
      };
      await expect(consume()).rejects.toMatchObject({ exitCode: 3, message: 'experiment x not found' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
