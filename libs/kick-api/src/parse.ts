/**
 * Turns Kick's wire shapes into ours. Kick's API is young and changes without notice, so every field is
 * checked: an item that lacks what identifies it is skipped, an optional field that is missing or odd
 * becomes null, and numbers are accepted as JSON numbers or numeric strings.
 */

/** A channel as a probe sees it (`GET /public/v1/channels`). */
export interface KickChannel {
  broadcasterUserId: number;
  slug: string;
  /** `stream_title`; null when empty. */
  title: string | null;
  /** null when Kick sends none (or its empty placeholder `{ id: 0, name: "" }`). */
  category: { id: number; name: string } | null;
  isLive: boolean;
  /** Current viewers; 0 when offline. */
  viewerCount: number;
  /** ISO time the current stream started; null when offline or unknown. */
  streamStartedAt: string | null;
  language: string | null;
  /**
   * `active_subscribers_count` (paid subscribers), which Kick added to this endpoint in 2026-01; null when
   * absent. Kick's public API has no follower count (see client.ts).
   */
  activeSubscribersCount: number | null;
}

/** A user from `GET /public/v1/users`: all Kick documents there is id, name and picture (and email, not kept). */
export interface KickUser {
  userId: number;
  name: string;
  profilePicture: string | null;
}

/** One of the app's event subscriptions (`GET /public/v1/events/subscriptions`). */
export interface KickEventSubscription {
  id: string;
  broadcasterUserId: number;
  /** The event name, e.g. `chat.message.sent`. */
  event: string;
  version: number;
  /** ISO time; null when absent. */
  createdAt: string | null;
}

/** Kick's answer for one event of `POST /public/v1/events/subscriptions`. */
export interface KickCreatedSubscription {
  name: string;
  version: number;
  /** null when Kick refused this event (then `error` says why). */
  subscriptionId: string | null;
  error: string | null;
}

export function parseEventSubscription(raw: unknown): KickEventSubscription | null {
  if (!isRecord(raw)) return null;
  const id = nonEmptyString(raw['id']);
  const broadcasterUserId = toId(raw['broadcaster_user_id']);
  const event = nonEmptyString(raw['event']);
  if (id === null || broadcasterUserId === null || event === null) return null;
  return { id, broadcasterUserId, event, version: toId(raw['version']) ?? 1, createdAt: toIsoTime(raw['created_at']) };
}

export function parseCreatedSubscription(raw: unknown): KickCreatedSubscription | null {
  if (!isRecord(raw)) return null;
  const name = nonEmptyString(raw['name']);
  if (name === null) return null;
  return {
    name,
    version: toId(raw['version']) ?? 1,
    subscriptionId: nonEmptyString(raw['subscription_id']),
    error: nonEmptyString(raw['error']),
  };
}

export function parseChannel(raw: unknown): KickChannel | null {
  if (!isRecord(raw)) return null;
  const broadcasterUserId = toId(raw['broadcaster_user_id']);
  const slug = raw['slug'];
  if (broadcasterUserId === null || typeof slug !== 'string' || slug.length === 0) return null;
  const stream = isRecord(raw['stream']) ? raw['stream'] : {};
  const isLive = stream['is_live'] === true;
  return {
    broadcasterUserId,
    slug,
    title: nonEmptyString(raw['stream_title']),
    category: parseCategory(raw['category']),
    isLive,
    viewerCount: isLive ? (toCount(stream['viewer_count']) ?? 0) : 0,
    streamStartedAt: isLive ? toIsoTime(stream['start_time']) : null,
    language: nonEmptyString(stream['language']),
    activeSubscribersCount: toCount(raw['active_subscribers_count']),
  };
}

export function parseUser(raw: unknown): KickUser | null {
  if (!isRecord(raw)) return null;
  const userId = toId(raw['user_id']);
  const name = nonEmptyString(raw['name']);
  if (userId === null || name === null) return null;
  return { userId, name, profilePicture: nonEmptyString(raw['profile_picture']) };
}

/** Kick's `{ data: [...], message }` envelope; null when the body is something else. */
export function envelopeItems(body: unknown): unknown[] | null {
  if (!isRecord(body)) return null;
  const data = body['data'];
  return Array.isArray(data) ? data : null;
}

/** The `message` of Kick's envelope (or an OAuth `error_description`), for error reports. */
export function bodyMessage(body: unknown): string | null {
  if (!isRecord(body)) return null;
  for (const key of ['message', 'error_description', 'error']) {
    const value = body[key];
    if (typeof value === 'string' && value.length > 0) return value.slice(0, 500);
  }
  return null;
}

function parseCategory(raw: unknown): { id: number; name: string } | null {
  if (!isRecord(raw)) return null;
  const id = toId(raw['id']);
  const name = nonEmptyString(raw['name']);
  return id === null || name === null ? null : { id, name };
}

/** A positive safe integer, from a number or a numeric string. */
export function toId(value: unknown): number | null {
  const n = toNumber(value);
  return n !== null && Number.isSafeInteger(n) && n > 0 ? n : null;
}

function toCount(value: unknown): number | null {
  const n = toNumber(value);
  return n !== null && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

/**
 * Kick sends Go's zero time (`0001-01-01T00:00:00Z`) for a channel that has never streamed; anything
 * before 2000 is treated as that placeholder.
 */
function toIsoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || ms < Date.UTC(2000, 0, 1)) return null;
  return new Date(ms).toISOString();
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim().length > 0 ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
