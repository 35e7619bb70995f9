// Times every HTTP request into fleet_http_request_duration_seconds. Labelled by the matched route's
// template (Express's req.route, e.g. /api/experiments/:id), never by the raw path, so ids cannot
// blow up the series count; requests no route matched (static dashboard files, 404s) are "other".
import { performance } from 'node:perf_hooks';
import type { HttpObservation } from './api-metrics.js';

interface TimedRequest {
  method: string;
  baseUrl?: string;
  route?: { path?: unknown };
}

interface TimedResponse {
  statusCode: number;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

export function routeLabel(req: TimedRequest): string {
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : 'other';
}

export function httpMetrics(observe: (o: HttpObservation) => void) {
  return (req: TimedRequest, res: TimedResponse, next: () => void): void => {
    const start = performance.now();
    let done = false;
    // 'close' also ends requests the client aborted (SSE streams when the browser leaves).
    const finish = (): void => {
      if (done) return;
      done = true;
      observe({ method: req.method, route: routeLabel(req), statusCode: res.statusCode, seconds: (performance.now() - start) / 1000 });
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}
