import { registerOnce } from '@onair/service-kit';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { subscriptionTotals } from './sql/subscription-totals';

export interface SubscriptionMetrics {
  recreated(source: 'reconcile' | 'watchdog', n: number): void;
  resubscribed(): void;
}

/**
 * kick_subscriptions_wanted / _present and kick_webhook_silent_channels are read from Postgres at scrape
 * time (what the last reconcile and watchdog pass recorded), so every replica reports the same figures
 * whichever replica ran the job; alerts take max() across replicas. The counters count this replica's work.
 */
export function createSubscriptionMetrics(registry: Registry, db: Kysely<any>): SubscriptionMetrics {
  let totals: Promise<{ wanted: number; present: number; silent: number }> | undefined;
  let last = { wanted: 0, present: 0, silent: 0 };
  // One query serves the three gauges of a scrape (the registry collects them concurrently); when
  // Postgres cannot answer, the last figures stand.
  const read = async () => {
    totals ??= subscriptionTotals(db)
      .then((t) => (last = t))
      .catch(() => last)
      .finally(() => {
        totals = undefined;
      });
    return totals;
  };
  registerOnce(registry, 'kick_subscriptions_wanted', () =>
    new Gauge({
      name: 'kick_subscriptions_wanted',
      help: 'Kick event subscriptions the channels should have (9 per active Kick channel), as last reconciled',
      registers: [registry],
      async collect() {
        this.set((await read()).wanted);
      },
    }),
  );
  registerOnce(registry, 'kick_subscriptions_present', () =>
    new Gauge({
      name: 'kick_subscriptions_present',
      help: 'Wanted Kick event subscriptions Kick listed (or we created) at the last reconcile or watchdog pass',
      registers: [registry],
      async collect() {
        this.set((await read()).present);
      },
    }),
  );
  registerOnce(registry, 'kick_webhook_silent_channels', () =>
    new Gauge({
      name: 'kick_webhook_silent_channels',
      help: 'Kick channels probed live with viewers from which no webhook (chat) arrived for the silence window',
      registers: [registry],
      async collect() {
        this.set((await read()).silent);
      },
    }),
  );
  const recreated = registerOnce(registry, 'kick_subscriptions_recreated_total', () =>
    new Counter({
      name: 'kick_subscriptions_recreated_total',
      help: 'Kick event subscriptions created because they were missing (reconcile) or silent (watchdog)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
  );
  const resubscribed = registerOnce(registry, 'kick_webhook_resubscribed_total', () =>
    new Counter({
      name: 'kick_webhook_resubscribed_total',
      help: 'Silent live Kick channels the watchdog resubscribed (deleted and created their subscriptions)',
      registers: [registry],
    }),
  );
  return {
    recreated: (source, n) => {
      if (n > 0) recreated.inc({ source }, n);
    },
    resubscribed: () => resubscribed.inc(),
  };
}
