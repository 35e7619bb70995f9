// A small in-memory token bucket per client IP on POST routes (submits, cancels, retries), enough
// to stop a runaway script from flooding the queue. Per process: several API replicas each allow
// the full rate.
import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { API_OPTIONS, type ApiOptions, type RateLimitOptions } from '../api-options.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before idle ones are swept (full buckets carry no state worth keeping). */
const MAX_BUCKETS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; returns the seconds to wait when there is none. */
  take(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond);
    bucket.at = now;
    if (this.buckets.size >= MAX_BUCKETS && !this.buckets.has(key)) this.sweep();
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.ceil((1 - bucket.tokens) / this.options.perSecond) };
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.options.perSecond >= this.options.burst) this.buckets.delete(key);
    }
  }
}

interface ClientRequest {
  method: string;
  ip?: string;
  socket: { remoteAddress?: string };
}

@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets: TokenBuckets | undefined;

  constructor(@Inject(API_OPTIONS) options: ApiOptions) {
    this.buckets = options.rateLimit === false ? undefined : new TokenBuckets(options.rateLimit);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.buckets || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<ClientRequest>();
    if (req.method !== 'POST') return true;
    const verdict = this.buckets.take(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (!verdict.ok) {
      const res = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
      res.setHeader('Retry-After', String(verdict.retryAfterS));
      throw new HttpException(`too many requests: retry in ${verdict.retryAfterS} s`, HttpStatus.TOO_MANY_REQUESTS);
    }
    return true;
  }
}
