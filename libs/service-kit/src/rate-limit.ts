/**
 * Token bucket per key (user id, IP). In memory, so the limit is per replica: behind N replicas a key gets
 * up to N times the rate, which bounds abuse well enough for chat and costs no shared state per message.
 */
export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, nowMs?: number): number;
  /** Buckets held now (at most `maxKeys`). */
  readonly size: number;
}

export function createRateLimiter(options: {
  burst: number;
  perSecond: number;
  /** Most buckets kept; past it the least recently used is forgotten. */
  maxKeys?: number;
}): RateLimiter {
  // A Map iterates in insertion order; re-inserting a key on every use keeps the least recently used first.
  const buckets = new Map<string, { tokens: number; at: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  return {
    take(key, nowMs = Date.now()) {
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
      } else {
        // Bounded memory: forget the least recently used bucket. A key that keeps asking (an abuser at
        // its limit) is never the one forgotten, so it cannot win a fresh burst by making others arrive.
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
        bucket = { tokens: options.burst, at: nowMs };
      }
      buckets.set(key, bucket);
      bucket.tokens = Math.min(options.burst, bucket.tokens + (Math.max(0, nowMs - bucket.at) / 1000) * options.perSecond);
      bucket.at = Math.max(bucket.at, nowMs);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - bucket.tokens) / options.perSecond);
    },
    get size() {
      return buckets.size;
    },
  };
}
