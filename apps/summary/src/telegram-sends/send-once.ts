import { createHash, randomUUID } from 'node:crypto';
import { NotifierError, type Notifier } from '@onair/notifier';
import { registerOnce, type Logger } from '@onair/service-kit';
import type { Kysely } from 'kysely';
import { Counter, Registry } from 'prom-client';
import { claimSend, recordSendOutcome } from './sql/telegram-sends';

export interface SendOnceDeps {
  db: Kysely<any>;
  notifier: Notifier;
  /** Named in the row, so an operator knows whose attempt stopped. */
  worker: string;
  now: () => Date;
  logger?: Logger;
  /** Where `telegram_sends_total` goes; a private registry when absent. */
  registry?: Registry;
}

export interface SendOnceRequest {
  /** What sends it, e.g. the job name. */
  kind: string;
  /** The period it covers, e.g. the UTC day. */
  periodKey: string;
  /** What it is about within the period (e.g. a hash of the channel set): another key is another message. */
  messageKey: string;
  text: string;
}

export type SendOnceResult =
  | { outcome: 'sent'; id: number; messageIds: number[] }
  /** Sent earlier (by this or another worker); not sent again. */
  | { outcome: 'already_sent'; id: number; messageIds: number[] }
  /** Nobody knows whether the message is in the chat: it is not sent (again), the row says `unknown`. */
  | { outcome: 'unknown'; id: number; reason: string };

/**
 * Sends `text` to the notifier's chat at most once per (kind, period, chat, message key), across
 * attempts, workers and crashes: the row is claimed as `sending` and committed before the request goes
 * out, and `sent` (with Telegram's message ids) is committed as soon as Telegram answers, before the
 * caller commits anything of its own. A send whose outcome cannot be known (the worker died inside that
 * window, or the request timed out) becomes `unknown`: never repeated, logged as a warning and counted as
 * `telegram_sends_total{outcome="unknown"}` for an operator to check the chat. A send Telegram certainly
 * did not post is recorded `failed` and its error thrown, so the caller's retry sends it.
 */
export async function sendOnce(deps: SendOnceDeps, request: SendOnceRequest): Promise<SendOnceResult> {
  const metrics = telegramSendMetrics(deps.registry);
  const key = { kind: request.kind, periodKey: request.periodKey, chatId: deps.notifier.chatId, messageKey: request.messageKey };
  const log = deps.logger?.child({ ...key, component: 'telegram-sends' });
  const claim = randomUUID();
  const textSha256 = createHash('sha256').update(request.text).digest('hex');
  const claimed = await claimSend(deps.db, key, { claim, worker: deps.worker, textSha256, at: deps.now() });

  if (claimed.kind === 'sent') {
    metrics.inc({ kind: request.kind, outcome: 'already_sent' });
    log?.info({ sendId: claimed.id, messageIds: claimed.messageIds }, 'telegram message already sent: not sent again');
    return { outcome: 'already_sent', id: claimed.id, messageIds: claimed.messageIds };
  }
  if (claimed.kind === 'unknown') {
    metrics.inc({ kind: request.kind, outcome: 'skipped_unknown' });
    log?.info({ sendId: claimed.id }, 'telegram message outcome unknown since an earlier attempt: not sent again');
    return { outcome: 'unknown', id: claimed.id, reason: 'marked unknown earlier' };
  }
  if (claimed.kind === 'interrupted') {
    const reason = `the attempt by ${claimed.worker} that started at ${claimed.startedAt.toISOString()} stopped before recording Telegram's answer`;
    metrics.inc({ kind: request.kind, outcome: 'unknown' });
    log?.warn({ sendId: claimed.id, previousWorker: claimed.worker, previousStartedAt: claimed.startedAt }, `telegram message may or may not have been sent: ${reason}; not sent again (check the chat)`);
    return { outcome: 'unknown', id: claimed.id, reason };
  }

  let messageIds: number[];
  try {
    // atMostOnce: the notifier does not repeat a request Telegram may have acted on (a timeout, say).
    ({ messageIds } = await deps.notifier.send(request.text, { atMostOnce: true }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const notPosted = error instanceof NotifierError ? !error.maybeDelivered && error.partsSent === 0 : error instanceof RangeError;
    if (notPosted) {
      await recordSendOutcome(deps.db, claimed.id, claim, { state: 'failed', error: message, at: deps.now() });
      metrics.inc({ kind: request.kind, outcome: 'failed' });
      throw error;
    }
    await recordSendOutcome(deps.db, claimed.id, claim, { state: 'unknown', error: message, at: deps.now() });
    metrics.inc({ kind: request.kind, outcome: 'unknown' });
    log?.warn({ sendId: claimed.id, err: error }, 'telegram message may or may not have been sent; not sent again (check the chat)');
    return { outcome: 'unknown', id: claimed.id, reason: message };
  }
  await recordSendOutcome(deps.db, claimed.id, claim, { state: 'sent', messageIds, at: deps.now() });
  metrics.inc({ kind: request.kind, outcome: 'sent' });
  return { outcome: 'sent', id: claimed.id, messageIds };
}

/** A stable key for a set of ids: the SHA-256 of their sorted, distinct decimal forms. */
export function idSetKey(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return createHash('sha256').update(sorted.join(',')).digest('hex');
}

/**
 * `outcome`: sent, already_sent, failed (not posted; the caller retries), unknown (became unknown now: alert
 * on any increase), skipped_unknown (unknown since an earlier attempt; not counted twice).
 */
function telegramSendMetrics(registry: Registry | undefined): Counter<'kind' | 'outcome'> {
  const register = registry ?? new Registry();
  return registerOnce(
    register,
    'telegram_sends_total',
    () =>
      new Counter({
        name: 'telegram_sends_total',
        help: 'At-most-once Telegram sends by kind and outcome; outcome="unknown" needs an operator to check the chat',
        labelNames: ['kind', 'outcome'] as const,
        registers: [register],
      }),
  );
}
