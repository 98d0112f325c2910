/**
 * Telegram Bot API notifier: posts plain-text messages (daily summaries) to one chat with `sendMessage`.
 *
 * Documentation read (through the stored copies of core.telegram.org/bots/api):
 * - "Making requests": every call is `https://api.telegram.org/bot<token>/METHOD_NAME`, GET or POST,
 *   parameters as query string, form, `application/json` or multipart. The reply is a JSON object with a
 *   Boolean `ok`; on success `result`, otherwise `description` and an Integer `error_code` ("its contents
 *   are subject to change"), and for some errors `parameters` (ResponseParameters).
 * - ResponseParameters: `retry_after` — "In case of exceeding flood control, the number of seconds left to
 *   wait before the request can be repeated"; `migrate_to_chat_id` — the group became a supergroup.
 * - `sendMessage` (core.telegram.org/bots/api/methods/sendmessage.md): `chat_id` (Integer or String,
 *   required), `text` ("1-4096 characters after entities parsing", required), optional `parse_mode`,
 *   `entities`, `link_preview_options` (LinkPreviewOptions `{ is_disabled }`; it replaced the older
 *   `disable_web_page_preview`, which the current page no longer lists). Returns the sent Message, whose
 *   `message_id` we keep.
 * - Error texts seen on the wire: 401 `Unauthorized` (wrong token), 404 `Not Found` (malformed token),
 *   400 `Bad Request: chat not found`, 400 `Bad Request: message is too long`, 403 `Forbidden: bot was
 *   blocked by the user`, 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
 *
 * The Bot API has no idempotency key: a request that timed out may still have been delivered, so a retry
 * after a timeout can post the message twice. `idempotencyKey` protects against the caller repeating a
 * send in this process (and resumes a split message after the parts already accepted); a job that must
 * not post twice across restarts has to record its own "sent" state. For such a caller, `atMostOnce`
 * stops the retries that could post twice, and `NotifierError.maybeDelivered` says whether a failed send
 * may nevertheless be in the chat.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { NotifierError } from './errors';
import { createNotifierMetrics } from './metrics';
import { redactError, redactText } from './redact';
import { splitMessage } from './split';

export interface TelegramNotifierOptions {
  /** Bot API origin, e.g. `https://api.telegram.org` (TELEGRAM_API_BASE; a local Bot API server works too). */
  apiBase: string;
  /** The token @BotFather issued, `123456:ABC-…`. Sent only in the URL path; never logged. */
  botToken: string;
  /** Target chat: a numeric id (`-100…` for supergroups and channels) or `@channelusername`. */
  chatId: string;
  /** Bound on one HTTP attempt, headers and body, in ms. Default 10000. */
  timeoutMs?: number;
  /**
   * Retries after the first attempt of each message on 429, 5xx, timeouts and broken connections. Default
   * 5. Waits are exponential with jitter (500 ms doubling, capped at 30 s), or exactly what Telegram's
   * `parameters.retry_after` asks for. Other 4xx answers are never retried: they will not change.
   */
  maxRetries?: number;
  /**
   * The longest `retry_after` the notifier sleeps through, in ms. Default 60000. Flood control can ask for
   * many minutes; rather than hold the caller that long, the send fails as `unavailable` with
   * `retryAfterMs` set so the caller can reschedule.
   */
  maxRetryAfterMs?: number;
  /** Ask Telegram not to render link previews (`link_preview_options.is_disabled`). Default true. */
  disableLinkPreview?: boolean;
  /** Where notifier_* metrics go; a private registry when absent. */
  registry?: Registry;
  logger?: Logger;
  /** How the notifier waits between retries. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export interface SendOptions {
  /**
   * Names this message within the process: a second send with the same key returns the first result
   * instead of posting again (or shares it while the first is still under way), and after a failure it
   * sends only the parts not yet accepted. The last 1000 keys are remembered.
   */
  idempotencyKey?: string;
  /**
   * Never repeat an attempt Telegram may have acted on: a timeout or a connection dropped after the request
   * went out ends the send as `unavailable` with `maybeDelivered` set, instead of being retried. Answers
   * that say no (429, 5xx) and connections that never opened are still retried: Telegram did not post.
   * Default false (a retry after a timeout can post the message twice).
   */
  atMostOnce?: boolean;
}

export interface SendResult {
  /** Telegram's `message_id` of the first (or only) part. */
  messageId: number;
  /** `message_id` of every part, in order; one entry unless the text was split. */
  messageIds: number[];
}

export interface Notifier {
  /** The chat this notifier posts to, as configured (trimmed). */
  readonly chatId: string;
  /**
   * Posts `text` as plain text. Texts over 4096 characters are split between lines and sent as several
   * messages, in order, each retried on its own. Throws NotifierError (`rejected` or `unavailable`).
   */
  send(text: string, options?: SendOptions): Promise<SendResult>;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const REMEMBERED_KEYS = 1_000;

type Attempt =
  | { kind: 'sent'; messageId: number }
  | { kind: 'rejected'; status: number; description: string | null; migrateToChatId: number | null }
  | {
      kind: 'transient';
      status: number | null;
      description: string | null;
      retryAfterMs: number | null;
      /** No answer came after the request may have reached Telegram (timeout, connection dropped mid-way). */
      maybeDelivered: boolean;
      cause?: Error;
    }
  | { kind: 'unreadable'; status: number };

interface Delivery {
  text: string;
  parts: string[];
  messageIds: number[];
  inFlight: Promise<SendResult> | undefined;
}

export function createTelegramNotifier(options: TelegramNotifierOptions): Notifier {
  const apiBase = checkBase(options.apiBase);
  const token = options.botToken;
  if (typeof token !== 'string' || token.length === 0 || /[/?#\s]/.test(token)) {
    // The value itself is not echoed: it is a credential.
    throw new RangeError('notifier option botToken must be a non-empty token without "/", "?", "#" or spaces');
  }
  const chatId = options.chatId.trim();
  if (chatId.length === 0) throw new RangeError('notifier option chatId must not be empty');
  const timeoutMs = positive(options.timeoutMs ?? 10_000, 'timeoutMs');
  const maxRetries = atLeastZero(options.maxRetries ?? 5, 'maxRetries');
  const maxRetryAfterMs = atLeastZero(options.maxRetryAfterMs ?? 60_000, 'maxRetryAfterMs');
  const disableLinkPreview = options.disableLinkPreview ?? true;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const log = options.logger?.child({ component: 'notifier', chatId });
  const metrics = createNotifierMetrics(options.registry);
  const url = `${apiBase}/bot${token}/sendMessage`;
  const deliveries = new Map<string, Delivery>();

  /** One HTTP attempt, classified. Never throws. */
  async function attempt(text: string): Promise<Attempt> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let outcome = 'network';
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ chat_id: chatId, text, ...(disableLinkPreview ? { link_preview_options: { is_disabled: true } } : {}) }),
        signal: controller.signal,
      });
      outcome = String(res.status);
      // The timer stays armed while the body is read: a server that stalls mid-body is a timeout too.
      const body = parseJson(await res.text());
      const description = typeof body?.['description'] === 'string' ? redactText(body['description'], token) : null;
      const parameters = isRecord(body?.['parameters']) ? body['parameters'] : {};
      if (res.status >= 200 && res.status < 300) {
        const result = body?.['ok'] === true && isRecord(body['result']) ? body['result'] : null;
        const messageId = result?.['message_id'];
        if (typeof messageId === 'number' && Number.isSafeInteger(messageId)) return { kind: 'sent', messageId };
        return { kind: 'unreadable', status: res.status };
      }
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = parameters['retry_after'];
        const retryAfterMs = typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.ceil(retryAfter * 1000) : null;
        return { kind: 'transient', status: res.status, description, retryAfterMs, maybeDelivered: false };
      }
      const migrate = parameters['migrate_to_chat_id'];
      return { kind: 'rejected', status: res.status, description, migrateToChatId: typeof migrate === 'number' ? migrate : null };
    } catch (err) {
      const timedOut = controller.signal.aborted;
      outcome = timedOut ? 'timeout' : 'network';
      return {
        kind: 'transient',
        status: null,
        description: timedOut ? `no answer within ${timeoutMs} ms` : 'connection failed',
        retryAfterMs: null,
        maybeDelivered: timedOut || !neverConnected(err),
        cause: redactError(err, token),
      };
    } finally {
      clearTimeout(timer);
      metrics.attempt(outcome);
    }
  }

  /** Sends one part until Telegram accepts it, refuses it, or the retries are spent. */
  async function sendPart(text: string, part: number, parts: number, partsSent: number, atMostOnce: boolean): Promise<number> {
    const where = parts > 1 ? { part, parts } : {};
    // Whether an earlier attempt of this part may have posted it: a later failure does not undo that.
    let maybeDelivered = false;
    for (let retry = 0; ; retry++) {
      const result = await attempt(text);
      if (result.kind === 'sent') {
        metrics.message('sent');
        return result.messageId;
      }
      if (result.kind === 'rejected') {
        metrics.message('failed');
        throw new NotifierError('rejected', result.status, result.description, rejectionMessage(chatId, result), { partsSent, maybeDelivered });
      }
      if (result.kind === 'unreadable') {
        // Telegram said 2xx, so the message may well be in the chat: retrying could post it twice.
        metrics.message('failed');
        throw new NotifierError(
          'unavailable',
          result.status,
          null,
          `Telegram sendMessage to chat ${chatId}: HTTP ${result.status} without a readable Message; not retried, it may have been delivered`,
          { partsSent, maybeDelivered: true },
        );
      }
      maybeDelivered ||= result.maybeDelivered;
      const tooLong = result.retryAfterMs !== null && result.retryAfterMs > maxRetryAfterMs;
      const unsafe = atMostOnce && result.maybeDelivered;
      if (retry >= maxRetries || tooLong || unsafe) {
        metrics.message('failed');
        const what = result.status === null ? result.description : `HTTP ${result.status}${result.description ? ` ${result.description}` : ''}`;
        const why = unsafe
          ? `${retry + 1} attempt${retry === 0 ? '' : 's'}; not retried (at most once): it may have been delivered`
          : tooLong
            ? `flood control asks to wait ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s, longer than the ${Math.ceil(maxRetryAfterMs / 1000)} s allowed`
            : `${retry + 1} attempt${retry === 0 ? '' : 's'}`;
        throw new NotifierError('unavailable', result.status, result.status === null ? null : result.description, `Telegram sendMessage to chat ${chatId} failed (${what}); gave up after ${why}`, {
          ...(result.cause === undefined ? {} : { cause: result.cause }),
          ...(result.retryAfterMs === null ? {} : { retryAfterMs: result.retryAfterMs }),
          partsSent,
          maybeDelivered,
        });
      }
      const waitMs = result.retryAfterMs ?? backoff(retry);
      log?.warn(
        { ...where, attempt: retry + 1, status: result.status, description: result.description, waitMs, ...(result.cause ? { err: result.cause } : {}) },
        'telegram sendMessage failed; retrying',
      );
      await sleep(waitMs);
    }
  }

  async function deliver(delivery: Delivery, atMostOnce: boolean): Promise<SendResult> {
    const total = delivery.parts.length;
    for (let i = delivery.messageIds.length; i < total; i++) {
      const messageId = await sendPart(delivery.parts[i] as string, i + 1, total, i, atMostOnce);
      delivery.messageIds.push(messageId);
    }
    const messageIds = [...delivery.messageIds];
    log?.info({ messageIds, parts: total }, 'telegram message sent');
    return { messageId: messageIds[0] as number, messageIds };
  }

  function remember(key: string, delivery: Delivery): void {
    deliveries.set(key, delivery);
    if (deliveries.size <= REMEMBERED_KEYS) return;
    for (const [oldKey, old] of deliveries) {
      if (deliveries.size <= REMEMBERED_KEYS) break;
      if (old.inFlight === undefined) deliveries.delete(oldKey);
    }
  }

  return {
    chatId,
    send(text, sendOptions = {}) {
      const atMostOnce = sendOptions.atMostOnce ?? false;
      const parts = splitMessage(text);
      if (parts.length === 0) return Promise.reject(new RangeError('notifier send: text is empty (Telegram refuses empty messages)'));
      const key = sendOptions.idempotencyKey;
      if (key === undefined) return deliver({ text, parts, messageIds: [], inFlight: undefined }, atMostOnce);

      let delivery = deliveries.get(key);
      if (delivery !== undefined && delivery.text !== text) {
        return Promise.reject(new RangeError(`notifier send: idempotency key "${key}" was already used for a different text`));
      }
      if (delivery === undefined) {
        delivery = { text, parts, messageIds: [], inFlight: undefined };
        remember(key, delivery);
      }
      if (delivery.inFlight) return delivery.inFlight;
      if (delivery.messageIds.length === delivery.parts.length) {
        return Promise.resolve({ messageId: delivery.messageIds[0] as number, messageIds: [...delivery.messageIds] });
      }
      const current = delivery;
      current.inFlight = deliver(current, atMostOnce).finally(() => {
        current.inFlight = undefined;
      });
      return current.inFlight;
    },
  };
}

function rejectionMessage(chatId: string, r: { status: number; description: string | null; migrateToChatId: number | null }): string {
  const answer = `HTTP ${r.status}${r.description ? ` ${r.description}` : ''}`;
  const text = (r.description ?? '').toLowerCase();
  let hint: string;
  if (r.status === 401) hint = 'the bot token is wrong or was revoked';
  else if (r.status === 404) hint = 'the bot token is malformed or the API base is not a Bot API server';
  else if (r.migrateToChatId !== null) hint = `the group became supergroup ${r.migrateToChatId}; use that as the chat id`;
  else if (text.includes('chat not found')) hint = `chat ${chatId} not found: check the chat id and that the bot was added to the chat`;
  else if (r.status === 403) hint = `the bot may not post in chat ${chatId} (blocked, removed, or not an admin of the channel)`;
  else hint = 'the request was refused and will not succeed if repeated';
  return `Telegram rejected sendMessage to chat ${chatId} (${answer}): ${hint}`;
}

/**
 * True when a fetch failure happened before any byte of the request could reach Telegram: the connection
 * was refused or the name did not resolve. undici puts the system error under `cause`.
 */
function neverConnected(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

/** Exponential backoff with jitter: a random wait in [½, 1] × min(cap, base × 2^retry). */
function backoff(retry: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

function checkBase(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new RangeError(`notifier option apiBase must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RangeError(`notifier option apiBase must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`notifier option ${name} must be a positive number, got ${value}`);
  return value;
}

function atLeastZero(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`notifier option ${name} must be zero or more, got ${value}`);
  return value;
}
