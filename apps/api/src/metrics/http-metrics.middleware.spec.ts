import { EventEmitter } from 'node:events';
import type { HttpObservation } from './api-metrics.js';
import { httpMetrics, routeLabel } from './http-metrics.middleware.js';

describe('http metrics', () => {
  it('labels by the route template, never the raw path', () => {
    expect(routeLabel({ method: 'GET', baseUrl: '', route: { path: '/api/experiments/:id' } })).toBe('/api/experiments/:id');
    expect(routeLabel({ method: 'GET', baseUrl: '/queues', route: { path: '/api/queues' } })).toBe('/queues/api/queues');
    expect(routeLabel({ method: 'GET' })).toBe('other');
  });

  it('observes a request once, when it finishes or the client goes away', () => {
    const seen: HttpObservation[] = [];
    const res = Object.assign(new EventEmitter(), { statusCode: 404 });
    let nextCalled = false;
    httpMetrics((o) => seen.push(o))({ method: 'POST' }, res, () => (nextCalled = true));
    expect(nextCalled).toBe(true);
    expect(seen).toEqual([]);
    res.emit('finish');
    res.emit('close');
    expect(seen).toEqual([{ method: 'POST', route: 'other', statusCode: 404, seconds: expect.any(Number) as number }]);
  });
});
