/**
 * `rejected`: Telegram answered and said no (a 4xx other than 429: bad token, chat not found, bot not in
 * the chat, message refused). Sending the same message again cannot help until the configuration changes.
 * `unavailable`: no usable answer after the retries the notifier allows (429, 5xx, timeouts, broken
 * connections), or a reply that could not be read. Trying again later may work.
 */
export type NotifierErrorCode = 'rejected' | 'unavailable';

/**
 * A message could not be delivered. The text never contains the bot token (it is part of Telegram's URL
 * path, so every error from the HTTP layer is scrubbed before it is kept as `cause`).
 */
export class NotifierError extends Error {
  override readonly name = 'NotifierError';
  constructor(
    readonly code: NotifierErrorCode,
    /** HTTP status of the last answer, or null when none arrived (timeout, connection error). */
    readonly status: number | null,
    /** Telegram's `description` from the last answer, e.g. `Bad Request: chat not found`, when it sent one. */
    readonly description: string | null,
    message: string,
    options?: {
      cause?: unknown;
      /** What Telegram's `parameters.retry_after` asked for, in ms, when the last answer was a 429. */
      retryAfterMs?: number;
      /** Parts of a split message that Telegram had already accepted before this failure. */
      partsSent?: number;
      /** An attempt at the failing part got no answer after the request may have reached Telegram. */
      maybeDelivered?: boolean;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs ?? null;
    this.partsSent = options?.partsSent ?? 0;
    this.maybeDelivered = options?.maybeDelivered ?? false;
  }
  readonly retryAfterMs: number | null;
  readonly partsSent: number;
  /**
   * True when the failing part may be in the chat anyway: an attempt timed out or lost its connection
   * after the request went out, or Telegram said 2xx without a readable Message. The Bot API cannot tell;
   * a caller that must not post twice treats the message as possibly sent.
   */
  readonly maybeDelivered: boolean;
}
