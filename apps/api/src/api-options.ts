// Injection tokens and the options of the API app beyond FleetConfig (what tests tune).
import type { FleetConfig } from '@fleet/config';

export const FLEET_CONFIG = Symbol('FLEET_CONFIG');
export const API_OPTIONS = Symbol('API_OPTIONS');

export interface RateLimitOptions {
  /** Requests a client may burst. Default 60 */
  burst: number;
  /** Tokens refilled per second. Default 10 */
  perSecond: number;
}

export interface ApiOptions {
  /** Token bucket per client IP on POST routes; false disables it. Default { burst: 60, perSecond: 10 } */
  rateLimit: RateLimitOptions | false;
  /** Largest JSON body. Default '1mb' */
  bodyLimit: string;
  /** Deepest JSON nesting accepted in a body. Default 16 */
  maxJsonDepth: number;
  /** How long one SSE XREAD blocks before a keep-alive comment and a status check. Default 15000 ms */
  sseBlockMs: number;
  /** A worker counts as live when its heartbeat is younger than this. Default 30000 ms */
  workerLiveMs: number;
  /** Mount the dashboard (static pages + Bull Board). Default true */
  dashboard: boolean;
  /** A queue operation (enqueue, job removal) not confirmed by Redis within this long fails (BullMQ itself waits for Redis forever). Default 5000 ms */
  enqueueTimeoutMs: number;
  /** How often searched sweeps are topped up with their next cells (as cells end); 0 turns the timer off. Default 1000 ms */
  sweepTickMs: number;
  /** How long one read of the fleet's state (queue, runs, workers, epochs) serves GET /metrics. Default 2000 ms */
  metricsCacheMs: number;
}

export const DEFAULT_API_OPTIONS: ApiOptions = {
  rateLimit: { burst: 60, perSecond: 10 },
  bodyLimit: '1mb',
  maxJsonDepth: 16,
  sseBlockMs: 15_000,
  workerLiveMs: 30_000,
  dashboard: true,
  enqueueTimeoutMs: 5000,
  sweepTickMs: 1000,
  metricsCacheMs: 2000,
};

export type { FleetConfig };
