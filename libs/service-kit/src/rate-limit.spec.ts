import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit';

describe('rate limiter', () => {
  it('allows a burst, then refills at the rate, answering the seconds to wait', () => {
    const limiter = createRateLimiter({ burst: 2, perSecond: 1 });
    expect([limiter.take('a', 0), limiter.take('a', 0), limiter.take('a', 0)]).toEqual([0, 0, 1]);
    expect(limiter.take('a', 999)).toBe(1);
    expect(limiter.take('a', 2_000)).toBe(0);
  });

  it('keeps keys apart', () => {
    const limiter = createRateLimiter({ burst: 1, perSecond: 1 });
    expect([limiter.take('a', 0), limiter.take('b', 0), limiter.take('a', 0)]).toEqual([0, 0, 1]);
  });

  it('forgets the least recently used bucket, not the oldest: a key in use keeps its empty bucket', () => {
    const limiter = createRateLimiter({ burst: 1, perSecond: 0.001, maxKeys: 3 });
    expect(limiter.take('abuser', 0)).toBe(0);
    // Three newcomers arrive while the abuser keeps asking: in insertion order it would be first out.
    for (const [i, key] of ['n1', 'n2', 'n3', 'n4', 'n5'].entries()) {
      expect(limiter.take('abuser', i + 1)).toBeGreaterThan(0);
      limiter.take(key, i + 1);
    }
    expect(limiter.size).toBe(3);
    expect(limiter.take('abuser', 10)).toBeGreaterThan(0);
    // n1 … n3 were used least recently and are gone: they start again with a full bucket.
    expect(limiter.take('n1', 11)).toBe(0);
    expect(limiter.size).toBe(3);
  });

  it('does not refill when the clock goes backwards', () => {
    const limiter = createRateLimiter({ burst: 1, perSecond: 1 });
    expect(limiter.take('a', 10_000)).toBe(0);
    expect(limiter.take('a', 0)).toBe(1);
    expect(limiter.take('a', 10_000)).toBe(1);
  });
});
