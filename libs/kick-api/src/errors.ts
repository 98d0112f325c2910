/** How a call to Kick failed; stable strings, safe to log and to branch on. */
export type KickApiFailure = 'http' | 'timeout' | 'network' | 'invalid_response';

/**
 * Kick did not give a usable answer: an HTTP error status (`status`, with Kick's `{ data: null, message }`
 * text in `bodyMessage`), no answer within the timeout, a broken connection, or a body that is not Kick's
 * envelope. Thrown after the retries the client allows have been spent.
 */
export class KickApiError extends Error {
  override readonly name = 'KickApiError';
  readonly code = 'kick_api_error';
  constructor(
    /** `token`, `channels`, `users` or `subscriptions`. */
    readonly endpoint: string,
    readonly failure: KickApiFailure,
    /** HTTP status, or null when no HTTP answer arrived. */
    readonly status: number | null,
    /** Kick's `message` (or OAuth `error_description`) when the body had one. */
    readonly bodyMessage: string | null,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(describe(endpoint, failure, status, bodyMessage), options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs ?? null;
  }
  /** What Kick's `Retry-After` asked for, in ms, when it sent one. */
  readonly retryAfterMs: number | null;
}

/**
 * Kick's token endpoint refused the app's credentials (a 4xx other than 429). Retrying cannot help:
 * the client id or secret is wrong or the app was disabled.
 */
export class KickAuthError extends Error {
  override readonly name = 'KickAuthError';
  readonly code = 'kick_auth_refused';
  constructor(
    readonly status: number,
    /** OAuth `error`, e.g. `invalid_client`, when the body had one. */
    readonly oauthError: string | null,
    /** OAuth `error_description`, when the body had one. */
    readonly bodyMessage: string | null,
    options?: { cause?: unknown },
  ) {
    super(
      `Kick token endpoint refused the app credentials (HTTP ${status}${oauthError ? ` ${oauthError}` : ''}${bodyMessage ? `: ${bodyMessage}` : ''})`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/**
 * The circuit breaker is open (or its single half-open test call is already under way), so the call was
 * refused without touching the network. `cause` is the failure that opened the breaker, when known.
 */
export class KickUnavailableError extends Error {
  override readonly name = 'KickUnavailableError';
  readonly code = 'kick_unavailable';
  constructor(
    /** ms until the breaker lets a test call through; 0 when a test call is already in flight. */
    readonly retryInMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      retryInMs > 0
        ? `Kick API calls are suspended for ${Math.ceil(retryInMs / 1000)} s after repeated failures`
        : 'Kick API calls are suspended while a test call checks whether Kick has recovered',
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

function describe(endpoint: string, failure: KickApiFailure, status: number | null, bodyMessage: string | null): string {
  const what =
    failure === 'http'
      ? `HTTP ${status}`
      : failure === 'timeout'
        ? 'no answer within the timeout'
        : failure === 'network'
          ? 'connection failed'
          : `unexpected response body${status === null ? '' : ` (HTTP ${status})`}`;
  return `Kick ${endpoint}: ${what}${bodyMessage ? `: ${bodyMessage}` : ''}`;
}
