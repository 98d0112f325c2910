import { registerOnce } from '@onair/service-kit';
import { Counter, Registry } from 'prom-client';

export interface NotifierMetrics {
  /** One Telegram message (one part of a split text) was delivered or given up on. */
  message(outcome: 'sent' | 'failed'): void;
  /** One HTTP attempt finished; `status` is the HTTP status, `timeout` or `network`. */
  attempt(status: string): void;
}

/**
 * Messages count what reached the chat (or did not); attempts count every try, so a dashboard sees
 * Telegram's error and flood-control rate rather than only what survives the retries. A registry shared by
 * several notifiers reuses the metrics already on it instead of failing with "already registered".
 */
export function createNotifierMetrics(registry: Registry | undefined): NotifierMetrics {
  const register = registry ?? new Registry();
  const messages = registerOnce(
    register,
    'notifier_messages_total',
    () =>
      new Counter({
        name: 'notifier_messages_total',
        help: 'Telegram messages (parts of split texts count one each) by outcome: sent or failed after retries',
        labelNames: ['outcome'] as const,
        registers: [register],
      }),
  );
  const attempts = registerOnce(
    register,
    'notifier_attempts_total',
    () =>
      new Counter({
        name: 'notifier_attempts_total',
        help: 'HTTP attempts to the Telegram Bot API by outcome (HTTP status, timeout or network)',
        labelNames: ['status'] as const,
        registers: [register],
      }),
  );
  return {
    message: (outcome) => messages.inc({ outcome }),
    attempt: (status) => attempts.inc({ status }),
  };
}
