import { registerOnce } from '@onair/service-kit';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from './breaker';

export interface KickMetrics {
  /** One HTTP attempt finished; `status` is the HTTP status, `timeout` or `network`. */
  attempt(endpoint: string, status: string, seconds: number): void;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Metrics are per attempt (a retried call shows every try), so a dashboard sees Kick's error rate rather
 * than what survives our retries. A registry shared by several clients reuses the metrics already on it
 * instead of failing with "already registered"; the breaker gauge then reports the first client's breaker.
 */
export function createKickMetrics(registry: Registry | undefined, breakerState: () => BreakerState): KickMetrics {
  const register = registry ?? new Registry();
  const requests = registerOnce(
    register,
    'kick_api_requests_total',
    () =>
      new Counter({
        name: 'kick_api_requests_total',
        help: 'HTTP attempts to Kick by endpoint and outcome (HTTP status, timeout or network)',
        labelNames: ['endpoint', 'status'] as const,
        registers: [register],
      }),
  );
  const duration = registerOnce(
    register,
    'kick_api_request_seconds',
    () =>
      new Histogram({
        name: 'kick_api_request_seconds',
        help: 'Duration of one HTTP attempt to Kick, in seconds',
        labelNames: ['endpoint'] as const,
        buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [register],
      }),
  );
  if (!register.getSingleMetric('kick_api_breaker_state')) {
    new Gauge({
      name: 'kick_api_breaker_state',
      help: 'Kick API circuit breaker: 0 closed, 1 half-open, 2 open',
      registers: [register],
      // Read at scrape time: the breaker turns half-open lazily, so a stored value could be stale.
      collect() {
        this.set(BREAKER_VALUE[breakerState()]);
      },
    });
  }
  return {
    attempt(endpoint, status, seconds) {
      requests.inc({ endpoint, status });
      duration.observe({ endpoint }, seconds);
    },
  };
}
