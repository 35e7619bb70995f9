// When API_KEY is set, every /api route needs header x-api-key. EventSource cannot send headers,
// so the SSE route alone also accepts ?apiKey=. /health, /docs and the dashboard stay open.
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';

interface KeyedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
}

/** Constant-time comparison: both sides hashed to equal-length buffers first. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const SSE_PATH = /^\/api\/experiments\/[^/]+\/events$/;

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(FLEET_CONFIG) private readonly config: FleetConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.apiKey;
    if (expected === undefined || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<KeyedRequest>();
    if (req.path !== '/api' && !req.path.startsWith('/api/')) return true;
    const header = req.headers['x-api-key'];
    let given = typeof header === 'string' ? header : undefined;
    if (given === undefined && SSE_PATH.test(req.path) && typeof req.query.apiKey === 'string') given = req.query.apiKey;
    if (given === undefined) throw new UnauthorizedException('missing x-api-key header');
    if (!sameSecret(given, expected)) throw new UnauthorizedException('invalid API key');
    return true;
  }
}
