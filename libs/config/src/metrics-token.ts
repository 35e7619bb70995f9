// How a scraper proves it may read metrics when METRICS_TOKEN is set: `Authorization: Bearer <token>`,
// the form Prometheus's scrape config (`authorization: {credentials: ...}`) and KEDA send. Shared by
// the API's GET /metrics and the worker's metrics port.
import { createHash, timingSafeEqual } from 'node:crypto';

/** True when no token is configured, or the header carries exactly it (constant-time compare). */
export function metricsTokenAccepted(expected: string | undefined, authorization: string | string[] | undefined): boolean {
  if (expected === undefined) return true;
  if (typeof authorization !== 'string') return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return false;
  const a = createHash('sha256').update(m[1] as string).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
