import { TokenBuckets } from './rate-limit.guard.js';

describe('TokenBuckets', () => {
  it('allows a burst, then refills at the configured rate, per key', () => {
    let now = 0;
    const buckets = new TokenBuckets({ burst: 2, perSecond: 1 }, () => now);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    expect(buckets.take('b').ok).toBe(true);
    now = 1000;
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    now = 60_000;
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
  });
});
