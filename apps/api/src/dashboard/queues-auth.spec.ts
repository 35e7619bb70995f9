import { QUEUES_COOKIE, queuesAuth, type GateResponse } from './queues-auth.js';

interface Recorded {
  status?: number;
  headers: Record<string, string>;
  redirect?: [number, string];
  body?: string;
  next: boolean;
}

function run(apiKey: string | undefined, url: string, headers: Record<string, string> = {}): Recorded {
  const rec: Recorded = { headers: {}, next: false };
  const res: GateResponse = {
    status(code) {
      rec.status = code;
      return res;
    },
    setHeader(name, value) {
      rec.headers[name.toLowerCase()] = value;
    },
    redirect(status, to) {
      rec.redirect = [status, to];
    },
    type() {
      return res;
    },
    send(body) {
      rec.body = body;
    },
  };
  queuesAuth(apiKey, '/queues')({ originalUrl: url, headers }, res, () => (rec.next = true));
  return rec;
}

describe('queuesAuth', () => {
  it('lets everything through without an API key', () => {
    expect(run(undefined, '/queues').next).toBe(true);
  });

  it('refuses a missing or wrong key', () => {
    expect(run('k', '/queues')).toMatchObject({ status: 401, next: false });
    expect(run('k', '/queues?key=nope')).toMatchObject({ status: 401, next: false });
    expect(run('k', '/queues', { cookie: `${QUEUES_COOKIE}=nope` })).toMatchObject({ status: 401, next: false });
  });

  it('turns ?key= into a cookie and a redirect that keeps the other parameters', () => {
    const rec = run('k', '/queues/queue/train?key=k&status=failed');
    expect(rec.redirect).toEqual([303, '/queues/queue/train?status=failed']);
    expect(rec.headers['set-cookie']).toBe(`${QUEUES_COOKIE}=k; Path=/queues; HttpOnly; SameSite=Strict`);
    expect(rec.next).toBe(false);
  });

  it('accepts the cookie among others, or the x-api-key header', () => {
    expect(run('k=1', '/queues/api/queues', { cookie: `a=b; ${QUEUES_COOKIE}=${encodeURIComponent('k=1')}` }).next).toBe(true);
    expect(run('k', '/queues/api/queues', { 'x-api-key': 'k' }).next).toBe(true);
  });
});
