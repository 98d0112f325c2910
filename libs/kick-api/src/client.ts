/**
 * Client for Kick's public API (app access token, read-only lookups).
 *
 * Documentation read (2026-11, through the stored copy of KickEngineering/KickDevDocs, i.e. docs.kick.com):
 * - `apis/channels.md`, `apis/users.md`, `apis/livestreams.md`: each page embeds the Swagger spec
 *   `https://api.kick.com/swagger/v1/doc.json` for `GET /public/v1/channels`, `GET /public/v1/users`,
 *   `GET /public/v1/livestreams`; `getting-started/generating-tokens-oauth2-flow.md` for
 *   `POST https://id.kick.com/oauth/token` (client_credentials).
 * - Channel items: `broadcaster_user_id`, `slug`, `stream_title`, `channel_description`, `banner_picture`,
 *   `category { id, name, thumbnail }`, `stream { is_live, is_mature, language, start_time, viewer_count,
 *   thumbnail, url, key }`, and since 2026-01-29 `active_subscribers_count` (KickDevDocs issue #263, Kick
 *   staff: "The subscriber count is now available through public/v1/channels").
 * - Users: `GET /public/v1/users?id=…` (repeated) → `{ user_id, name, email, profile_picture }`.
 * - Follower count and channel creation date: NOT in the public API. Issues #122 ("Channel Information
 *   Incomplete", Kick staff 2025-11-17: "We're planning a new endpoint ... including follower and
 *   subscriber counts"), #187 (closed as duplicate of #122) and #366 (2026-04-18: `/public/v1/channels`
 *   "only returns active_subscribers_count — there is no followers_count field") are still open. The
 *   `kick.com/api/v2/channels/{slug}` endpoint that has them is internal and blocked from servers, so this
 *   client does not use it. The daily follower poll can read `activeSubscribersCount` (from getChannels)
 *   and `getUsers`; followers must wait for Kick's planned endpoint.
 * - `/public/v1/livestreams` is deprecated since 2026-06-23 and only lists live channels; not used.
 * - Channels by slug: `GET /public/v1/channels?slug=…`; `slug` and `broadcaster_user_id` cannot be combined.
 * - Event subscriptions (`events/subscribe-to-events.md`, the same Swagger spec): `POST
 *   /public/v1/events/subscriptions` `{ broadcaster_user_id, events: [{ name, version }], method: "webhook" }`
 *   → `data: [{ name, version, subscription_id, error }]`; `GET …?broadcaster_user_id=` → `data: [{ id,
 *   app_id, broadcaster_user_id, event, version, method, created_at, updated_at }]`; `DELETE …?id=…`
 *   (repeated) → 204. Scope `events:subscribe`. With an App Access Token (client credentials, what this
 *   client holds) `broadcaster_user_id` names any channel: no per-broadcaster OAuth grant is needed to
 *   receive a channel's public events.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createBreaker, type BreakerOutcome, type BreakerState } from './breaker';
import { KickApiError, KickAuthError } from './errors';
import { createKickMetrics } from './metrics';
import {
  bodyMessage,
  envelopeItems,
  parseChannel,
  parseCreatedSubscription,
  parseEventSubscription,
  parseUser,
  toId,
  type KickChannel,
  type KickCreatedSubscription,
  type KickEventSubscription,
  type KickUser,
} from './parse';

export interface KickClientOptions {
  /** Kick API origin, e.g. `https://api.kick.com`. */
  apiBase: string;
  /** Kick OAuth origin, e.g. `https://id.kick.com`. */
  oauthBase: string;
  clientId: string;
  clientSecret: string;
  /** Bound on one HTTP attempt, headers and body, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Retries after the first attempt on 429, 5xx, timeouts and connection errors. Default 3. Waits are
   * exponential with jitter (200 ms doubling, capped at 5 s) or what `Retry-After` asks for.
   */
  maxRetries?: number;
  /**
   * Consecutive failed calls (after their retries) that open the breaker, and how long it stays open in
   * ms before one test call may go through. Default 5 and 30000. While open, calls throw
   * KickUnavailableError at once, so a Kick outage costs the probe scheduler nothing but the error.
   */
  breaker?: { failureThreshold: number; openMs: number };
  /** Chunks of one getChannels/getUsers call in flight at once. Default 2. */
  concurrency?: number;
  /** Where kick_api_* metrics go; a private registry when absent. */
  registry?: Registry;
  logger?: Logger;
  /** Clock for token expiry and the breaker, in ms since the epoch. Default Date.now. */
  now?: () => number;
  /** How the client waits between retries. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export interface KickClient {
  /**
   * Channels for any number of broadcaster user ids, asked for 50 at a time. Ids Kick does not know are
   * simply absent from the result; ids that are not positive integers are skipped (and logged).
   */
  getChannels(broadcasterUserIds: readonly number[]): Promise<KickChannel[]>;
  /** Users for any number of user ids, 50 at a time; unknown ids are absent. No follower count exists. */
  getUsers(userIds: readonly number[]): Promise<KickUser[]>;
  /** The channel named `slug` (`GET /public/v1/channels?slug=`), or null when Kick knows none. */
  getChannelBySlug(slug: string): Promise<KickChannel | null>;
  /** The app's event subscriptions for one broadcaster, as Kick lists them. */
  listEventSubscriptions(broadcasterUserId: number): Promise<KickEventSubscription[]>;
  /**
   * Subscribes the app (webhook delivery) to `events` of one broadcaster, in one call. Kick answers per
   * event; an event it refused comes back with `error` and no `subscriptionId`. A retried call (5xx,
   * timeout) can leave a duplicate at Kick: callers reconcile against `listEventSubscriptions`.
   */
  createEventSubscriptions(broadcasterUserId: number, events: readonly { name: string; version: number }[]): Promise<KickCreatedSubscription[]>;
  /** Deletes subscriptions by id, 50 per call; ids Kick no longer has are not an error. */
  deleteEventSubscriptions(ids: readonly string[]): Promise<void>;
  breakerState(): BreakerState;
}

/** Kick's documented maximum of `broadcaster_user_id` values per channels call. */
export const KICK_MAX_IDS_PER_CALL = 50;

const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 5_000;
/**
 * A `Retry-After` longer than this is not slept through: a probe that waits minutes is worse than one
 * that fails now and is rescheduled. The error carries `retryAfterMs` so the caller can back off.
 */
const RETRY_AFTER_LIMIT_MS = 30_000;
/** Refresh a token this long before Kick says it expires (or at half its life, when that is shorter). */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

interface Answer {
  status: number;
  body: unknown;
  retryAfterMs: number | null;
}

export function createKickClient(options: KickClientOptions): KickClient {
  const apiBase = options.apiBase.replace(/\/+$/, '');
  const oauthBase = options.oauthBase.replace(/\/+$/, '');
  const timeoutMs = positive(options.timeoutMs ?? 5_000, 'timeoutMs');
  const maxRetries = atLeastZero(options.maxRetries ?? 3, 'maxRetries');
  const concurrency = positive(options.concurrency ?? 2, 'concurrency');
  const breakerOptions = options.breaker ?? { failureThreshold: 5, openMs: 30_000 };
  positive(breakerOptions.failureThreshold, 'breaker.failureThreshold');
  atLeastZero(breakerOptions.openMs, 'breaker.openMs');
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const log = options.logger?.child({ component: 'kick-api' });

  const breaker = createBreaker(breakerOptions, now, (from, to, cause) => {
    if (to === 'open') log?.warn({ from, to, err: cause, openMs: breakerOptions.openMs }, 'kick api breaker opened');
    else log?.info({ from, to }, 'kick api breaker state changed');
  });
  const metrics = createKickMetrics(options.registry, breaker.state);

  /** One HTTP attempt: an answer with any status, or KickApiError for timeouts and broken connections. */
  async function send(endpoint: string, url: string, init: RequestInit): Promise<Answer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = performance.now();
    let outcome = 'network';
    try {
      const res = await fetchImpl(url, { ...init, signal: controller.signal });
      outcome = String(res.status);
      // The timer stays armed while the body is read: a server that stalls mid-body is a timeout too.
      const text = await res.text();
      return { status: res.status, body: parseJson(text), retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
    } catch (err) {
      outcome = controller.signal.aborted ? 'timeout' : 'network';
      throw new KickApiError(endpoint, outcome === 'timeout' ? 'timeout' : 'network', null, null, { cause: err });
    } finally {
      clearTimeout(timer);
      metrics.attempt(endpoint, outcome, (performance.now() - started) / 1000);
    }
  }

  /** Runs `once` until it succeeds, fails for good, or `maxRetries` retries are spent. */
  async function withRetries<T>(endpoint: string, once: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        // Errors of another endpoint (the token fetch inside an API call) were already retried there.
        if (!(err instanceof KickApiError) || err.endpoint !== endpoint || !isTransient(err) || attempt >= maxRetries) throw err;
        if (err.retryAfterMs !== null && err.retryAfterMs > RETRY_AFTER_LIMIT_MS) throw err;
        const waitMs = err.retryAfterMs !== null && err.retryAfterMs > 0 ? err.retryAfterMs : backoff(attempt);
        log?.warn({ endpoint, attempt: attempt + 1, status: err.status, failure: err.failure, waitMs }, 'kick call failed; retrying');
        await sleep(waitMs);
      }
    }
  }

  // --- app access token -------------------------------------------------------------------------
  let token: { value: string; refreshAt: number } | undefined;
  let tokenRequest: Promise<string> | undefined;

  /** The cached token, or one shared request for a new one however many callers ask at once. */
  function getToken(): Promise<string> {
    if (token && now() < token.refreshAt) return Promise.resolve(token.value);
    tokenRequest ??= fetchToken().finally(() => {
      tokenRequest = undefined;
    });
    return tokenRequest;
  }

  /** Drops `value` after Kick refused it; a token another caller already replaced is left alone. */
  function invalidateToken(value: string): void {
    if (token?.value === value) token = undefined;
  }

  async function fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
    });
    const fetched = await withRetries('token', async () => {
      const answer = await send('token', `${oauthBase}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      });
      if (answer.status === 429 || answer.status >= 500) {
        throw new KickApiError('token', 'http', answer.status, bodyMessage(answer.body), retryAfter(answer));
      }
      if (answer.status >= 400) {
        const oauthError = isRecord(answer.body) && typeof answer.body['error'] === 'string' ? answer.body['error'] : null;
        const description = isRecord(answer.body) && typeof answer.body['error_description'] === 'string' ? answer.body['error_description'] : null;
        throw new KickAuthError(answer.status, oauthError, description);
      }
      const body = isRecord(answer.body) ? answer.body : {};
      const accessToken = body['access_token'];
      if (answer.status < 200 || answer.status >= 300 || typeof accessToken !== 'string' || accessToken.length === 0) {
        throw new KickApiError('token', 'invalid_response', answer.status, bodyMessage(answer.body));
      }
      return { accessToken, expiresInS: toId(body['expires_in']) };
    });
    // Without a usable expires_in the token is kept until Kick answers 401, which refreshes it anyway.
    const lifeMs = fetched.expiresInS === null ? Number.POSITIVE_INFINITY : fetched.expiresInS * 1000;
    token = { value: fetched.accessToken, refreshAt: now() + lifeMs - Math.min(TOKEN_REFRESH_MARGIN_MS, lifeMs / 2) };
    log?.debug({ expiresInS: fetched.expiresInS }, 'kick app token fetched');
    return fetched.accessToken;
  }

  // --- API calls --------------------------------------------------------------------------------

  /**
   * One call through the breaker, with retries and one token refresh on 401; returns the 2xx answer.
   * A 404 is returned too when `notFoundIsAnswer` (a DELETE of ids Kick no longer has).
   */
  async function call(
    endpoint: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    query: readonly (readonly [string, string])[],
    body?: unknown,
    notFoundIsAnswer = false,
  ): Promise<Answer> {
    breaker.acquire();
    const search = new URLSearchParams(query.map(([k, v]): [string, string] => [k, v])).toString();
    const url = `${apiBase}${path}${search ? `?${search}` : ''}`;
    const init = (value: string): RequestInit => ({
      method,
      headers: {
        authorization: `Bearer ${value}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    let refreshed = false;
    try {
      const answer = await withRetries(endpoint, async () => {
        let value = await getToken();
        let answer = await send(endpoint, url, init(value));
        if (answer.status === 401 && !refreshed) {
          // Kick revoked or expired the token early: fetch a new one and try once more.
          refreshed = true;
          invalidateToken(value);
          value = await getToken();
          answer = await send(endpoint, url, init(value));
        }
        if ((answer.status >= 200 && answer.status < 300) || (notFoundIsAnswer && answer.status === 404)) return answer;
        throw new KickApiError(endpoint, 'http', answer.status, bodyMessage(answer.body), retryAfter(answer));
      });
      breaker.release('success');
      return answer;
    } catch (err) {
      breaker.release(breakerOutcome(err), err);
      throw err;
    }
  }

  /** One GET returning the envelope's `data` items. */
  async function getItems(endpoint: string, path: string, query: readonly (readonly [string, string])[]): Promise<unknown[]> {
    const answer = await call(endpoint, 'GET', path, query);
    // Kick's "nothing found" is `data: []`; `data: null` on a success is read the same way.
    if (isRecord(answer.body) && answer.body['data'] === null) return [];
    const items = envelopeItems(answer.body);
    if (items === null) throw new KickApiError(endpoint, 'invalid_response', answer.status, null);
    return items;
  }

  /** Parses every item, logging (not failing on) the ones that cannot be read. */
  function parseAll<T>(endpoint: string, raw: unknown[], parse: (item: unknown) => T | null): T[] {
    const out: T[] = [];
    for (const item of raw) {
      const value = parse(item);
      if (value !== null) out.push(value);
    }
    if (out.length < raw.length) log?.warn({ endpoint, skipped: raw.length - out.length }, 'kick returned items that could not be read; skipped');
    return out;
  }

  async function lookup<T>(
    endpoint: string,
    path: string,
    param: string,
    ids: readonly number[],
    parse: (raw: unknown) => T | null,
    idOf: (item: T) => number,
  ): Promise<T[]> {
    const wanted = uniqueIds(ids, endpoint);
    if (wanted.length === 0) return [];
    const wantedSet = new Set(wanted);
    const chunks: number[][] = [];
    for (let i = 0; i < wanted.length; i += KICK_MAX_IDS_PER_CALL) chunks.push(wanted.slice(i, i + KICK_MAX_IDS_PER_CALL));
    const lists = await inPool(chunks, concurrency, async (chunk) => {
      const raw = await getItems(endpoint, path, chunk.map((id) => [param, String(id)] as const));
      const parsed: T[] = [];
      let skipped = 0;
      for (const item of raw) {
        const value = parse(item);
        // Kick answers only for the ids asked; anything else is dropped rather than trusted.
        if (value === null || !wantedSet.has(idOf(value))) skipped += 1;
        else parsed.push(value);
      }
      if (skipped > 0) log?.warn({ endpoint, skipped }, 'kick returned items that could not be read or were not asked for; skipped');
      return parsed;
    });
    const byId = new Map<number, T>();
    for (const item of lists.flat()) if (!byId.has(idOf(item))) byId.set(idOf(item), item);
    return [...byId.values()];
  }

  function uniqueIds(ids: readonly number[], endpoint: string): number[] {
    const out = new Set<number>();
    const invalid: unknown[] = [];
    for (const id of ids) {
      if (Number.isSafeInteger(id) && id > 0) out.add(id);
      else invalid.push(id);
    }
    // One malformed id makes Kick refuse the whole chunk with 400, so it is dropped here instead.
    if (invalid.length > 0) log?.warn({ endpoint, invalid: invalid.slice(0, 10), count: invalid.length }, 'skipping ids that are not positive integers');
    return [...out];
  }

  return {
    getChannels: (ids) =>
      lookup('channels', '/public/v1/channels', 'broadcaster_user_id', ids, parseChannel, (c) => c.broadcasterUserId),
    getUsers: (ids) => lookup('users', '/public/v1/users', 'id', ids, parseUser, (u) => u.userId),
    async getChannelBySlug(slug) {
      if (slug.length === 0) return null;
      const items = parseAll('channels', await getItems('channels', '/public/v1/channels', [['slug', slug]]), parseChannel);
      // Slugs are case-insensitive at Kick; anything but the asked channel is dropped rather than trusted.
      return items.find((c) => c.slug.toLowerCase() === slug.toLowerCase()) ?? null;
    },
    async listEventSubscriptions(broadcasterUserId) {
      const raw = await getItems('subscriptions', '/public/v1/events/subscriptions', [['broadcaster_user_id', String(broadcasterUserId)]]);
      return parseAll('subscriptions', raw, parseEventSubscription).filter((s) => s.broadcasterUserId === broadcasterUserId);
    },
    async createEventSubscriptions(broadcasterUserId, events) {
      if (events.length === 0) return [];
      const answer = await call('subscriptions', 'POST', '/public/v1/events/subscriptions', [], {
        broadcaster_user_id: broadcasterUserId,
        events: events.map((e) => ({ name: e.name, version: e.version })),
        method: 'webhook',
      });
      const items = envelopeItems(answer.body);
      if (items === null) throw new KickApiError('subscriptions', 'invalid_response', answer.status, null);
      return parseAll('subscriptions', items, parseCreatedSubscription);
    },
    async deleteEventSubscriptions(ids) {
      const unique = [...new Set(ids.filter((id) => id.length > 0))];
      for (let i = 0; i < unique.length; i += KICK_MAX_IDS_PER_CALL) {
        const chunk = unique.slice(i, i + KICK_MAX_IDS_PER_CALL);
        await call('subscriptions', 'DELETE', '/public/v1/events/subscriptions', chunk.map((id) => ['id', id] as const), undefined, true);
      }
    },
    breakerState: breaker.state,
  };
}

/** 429, 5xx, timeouts, broken connections and unreadable bodies may pass; other answers will not change. */
function isTransient(err: KickApiError): boolean {
  if (err.failure !== 'http') return true;
  return err.status === 429 || (err.status !== null && err.status >= 500);
}

/**
 * What a failed call tells the breaker. Kick answering at all (even 400 or 404) means it is up; our own
 * credentials being refused says nothing about Kick's health.
 */
function breakerOutcome(err: unknown): BreakerOutcome {
  if (err instanceof KickApiError) return isTransient(err) ? 'failure' : 'success';
  return 'neutral';
}

/** Full-range exponential backoff with jitter: a random wait in [½, 1] × min(cap, base × 2^attempt). */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

function retryAfter(answer: Answer): { retryAfterMs?: number } {
  return answer.retryAfterMs === null ? {} : { retryAfterMs: answer.retryAfterMs };
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs = Date.now()): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** Runs `fn` over `items` with at most `limit` in flight; after a failure starts nothing new and throws it. */
async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`kick client option ${name} must be a positive number, got ${value}`);
  return value;
}

function atLeastZero(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`kick client option ${name} must be zero or more, got ${value}`);
  return value;
}

/**
 * The app's client from a service's parsed `kickAppConfig()`, or undefined when its credentials are not set
 * (the features that need Kick are off; the service logs that).
 */
export function kickClientFromConfig(
  config: { KICK_API_BASE: string; KICK_OAUTH_BASE: string; KICK_CLIENT_ID: string; KICK_CLIENT_SECRET: string },
  deps: Pick<KickClientOptions, 'registry' | 'logger'>,
): KickClient | undefined {
  if (!config.KICK_CLIENT_ID || !config.KICK_CLIENT_SECRET) return undefined;
  return createKickClient({
    apiBase: config.KICK_API_BASE,
    oauthBase: config.KICK_OAUTH_BASE,
    clientId: config.KICK_CLIENT_ID,
    clientSecret: config.KICK_CLIENT_SECRET,
    ...deps,
  });
}

