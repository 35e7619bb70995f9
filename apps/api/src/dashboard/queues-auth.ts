// API-key gate for Bull Board at /queues. Bull Board's pages cannot send an x-api-key header, so
// the key is accepted once as ?key=..., kept in an HttpOnly cookie scoped to /queues, and the URL is
// cleaned by a redirect (the key must not stay in the address bar or in history).
import { createHash, timingSafeEqual } from 'node:crypto';

export const QUEUES_COOKIE = 'fleet_queues_key';

/** The parts of Express's request and response the gate uses. */
export interface GateRequest {
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
}
export interface GateResponse {
  status(code: number): GateResponse;
  setHeader(name: string, value: string): unknown;
  redirect(status: number, url: string): void;
  type(type: string): GateResponse;
  send(body: string): unknown;
}
export type Next = () => void;

function sameKey(given: string, expected: string): boolean {
  // Hash both so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const raw = Array.isArray(header) ? header.join(';') : (header ?? '');
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Express middleware; lets everything through when no API key is configured. */
export function queuesAuth(apiKey: string | undefined, basePath: string): (req: GateRequest, res: GateResponse, next: Next) => void {
  return (req, res, next) => {
    if (!apiKey) return next();
    const url = new URL(req.originalUrl, 'http://localhost');
    const fromQuery = url.searchParams.get('key');
    if (fromQuery !== null) {
      url.searchParams.delete('key');
      if (!sameKey(fromQuery, apiKey)) return deny(res, basePath);
      res.setHeader('Set-Cookie', `${QUEUES_COOKIE}=${encodeURIComponent(fromQuery)}; Path=${basePath}; HttpOnly; SameSite=Strict`);
      return res.redirect(303, `${url.pathname}${url.search}`);
    }
    const header = req.headers['x-api-key'];
    const given = (Array.isArray(header) ? header[0] : header) ?? cookieValue(req.headers.cookie, QUEUES_COOKIE);
    if (given !== undefined && sameKey(given, apiKey)) return next();
    return deny(res, basePath);
  };
}

function deny(res: GateResponse, basePath: string): void {
  res
    .status(401)
    .type('html')
    .send(`<!doctype html><meta charset="utf-8"><title>Queues: API key required</title><body style="font:16px system-ui;margin:3rem">` + `<h1>API key required</h1><p>This server has API_KEY set. Open <code>${basePath}?key=YOUR_API_KEY</code> once; the key is kept in a cookie for this browser.</p></body>`);
}
