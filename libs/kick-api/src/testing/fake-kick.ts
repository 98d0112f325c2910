import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A channel as a test describes it; the fake serialises it the way `GET /public/v1/channels` does. */
export interface FakeKickChannel {
  broadcasterUserId: number;
  slug: string;
  title?: string;
  category?: { id: number; name: string; thumbnail?: string } | null;
  isLive?: boolean;
  viewerCount?: number;
  /** ISO time the stream started; ignored while offline. */
  startedAt?: string | null;
  language?: string;
  isMature?: boolean;
  activeSubscribersCount?: number;
}

/** A user as `GET /public/v1/users` returns it. */
export interface FakeKickUser {
  userId: number;
  name: string;
  profilePicture?: string;
  email?: string;
}

/** An HTTP status to answer with, `timeout` (hold the request, never answer) or `reset` (drop the connection). */
export type FakeKickFault = 429 | 500 | 503 | 'timeout' | 'reset' | number;

export interface FakeKickRequest {
  endpoint: 'token' | 'channels' | 'users' | 'chat' | 'subscriptions' | 'other';
  method: string;
  path: string;
  /** `broadcaster_user_id` (channels, subscriptions) or `id` (users) values, in order. */
  ids: number[];
  status: number | 'timeout' | 'reset';
}

/** A chat message received on `POST /public/v1/chat`, as sent. */
export interface FakeKickChatMessage {
  /** The bearer token it came with (a user token the test registered with `addUserToken`). */
  token: string;
  type: 'user' | 'bot';
  broadcasterUserId: number | undefined;
  content: string;
  replyToMessageId: string | undefined;
  messageId: string;
}

/** An event subscription the fake holds, as `GET /public/v1/events/subscriptions` lists it. */
export interface FakeKickSubscription {
  id: string;
  broadcasterUserId: number;
  event: string;
  version: number;
  createdAt: string;
  /**
   * Whether Kick would still deliver this subscription's webhooks. `stopDelivering` clears it while the
   * subscription stays listed: the silent failure integrators report.
   */
  delivering: boolean;
}

export interface FakeKickOptions {
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens, in seconds. Default 5184000 (60 days, as seen from Kick). */
  tokenExpiresInS?: number;
  /** Loopback port to listen on. Default: any free one (tests); `npm run dev` fixes one (tools/dev-kick.ts). */
  port?: number;
}

export interface FakeKick {
  /** Base URL for `apiBase`; the same server answers `oauthBase`. */
  readonly apiBase: string;
  readonly oauthBase: string;
  readonly clientId: string;
  readonly clientSecret: string;
  setChannel(channel: FakeKickChannel): void;
  /** Serves `raw` verbatim as the item for `broadcasterUserId`, to test how malformed items are read. */
  setRawChannel(broadcasterUserId: number, raw: unknown): void;
  removeChannel(broadcasterUserId: number): void;
  setUser(user: FakeKickUser): void;
  removeUser(userId: number): void;
  /**
   * The next `n` requests to the API (or to the token endpoint, with `endpoint: 'token'`, or to the event
   * subscriptions only, with `endpoint: 'subscriptions'`) fail with `fault` instead of being served.
   * Faults queue up in the order they were added.
   */
  failNext(n: number, fault: FakeKickFault, options?: { endpoint?: 'api' | 'token' | 'subscriptions'; retryAfterS?: number }): void;
  /** Drops the faults still queued: the server answers normally again. */
  clearFaults(): void;
  /** Forgets every issued token, as Kick does when it revokes them: the next API call gets 401. */
  revokeTokens(): void;
  /** Accepts `token` as a user access token with `chat:write` (the OAuth flow that issues it is Kick's). */
  addUserToken(token: string): void;
  /** The app's event subscriptions, all or one broadcaster's, in creation order. */
  subscriptions(broadcasterUserId?: number): FakeKickSubscription[];
  /** Adds a subscription as if it had been created earlier (a stray, a duplicate); returns its id. */
  addSubscription(broadcasterUserId: number, event: string): string;
  /** Removes a subscription without a DELETE, as Kick does after 24 h of failed deliveries. */
  dropSubscription(id: string): void;
  /** Kick keeps listing the broadcaster's current subscriptions but stops delivering them. */
  stopDelivering(broadcasterUserId: number): void;
  /** Whether a webhook for `event` of the broadcaster would be delivered now (a live, delivering subscription). */
  delivers(broadcasterUserId: number, event: string): boolean;
  /** Chat messages sent through `POST /public/v1/chat`, in arrival order. */
  readonly chatMessages: readonly FakeKickChatMessage[];
  /** Every request in arrival order, with what it was answered. */
  readonly requests: readonly FakeKickRequest[];
  readonly tokensIssued: number;
  close(): Promise<void>;
}

interface QueuedFault {
  fault: FakeKickFault;
  retryAfterS: number | undefined;
}

const MAX_IDS = 50;
/** Event names Kick's Events table lists (version 1 each). */
const KNOWN_EVENTS = new Set([
  'chat.message.sent',
  'channel.followed',
  'channel.subscription.renewal',
  'channel.subscription.gifts',
  'channel.subscription.new',
  'channel.reward.redemption.updated',
  'livestream.status.updated',
  'livestream.metadata.updated',
  'moderation.banned',
  'kicks.gifted',
]);

/**
 * A local HTTP server speaking Kick's documented wire format for `POST /oauth/token` (form-encoded
 * client_credentials), `GET /public/v1/channels` and `GET /public/v1/users`: `{ data, message }` envelopes,
 * bearer tokens it issued (401 otherwise), at most 50 ids per call (400 otherwise), unknown ids absent.
 * Also `GET /public/v1/channels?slug=` and the event subscriptions: `POST /public/v1/events/subscriptions`
 * (`{ broadcaster_user_id, events: [{ name, version }], method: "webhook" }` → `data: [{ name, version,
 * subscription_id, error }]`, each call a new subscription per event, as a repeated call is at Kick),
 * `GET …?broadcaster_user_id=` and `DELETE …?id=…` (repeated, 204).
 */
export async function startFakeKick(options: FakeKickOptions = {}): Promise<FakeKick> {
  const clientId = options.clientId ?? 'fake-client-id';
  const clientSecret = options.clientSecret ?? 'fake-client-secret';
  const expiresInS = options.tokenExpiresInS ?? 5_184_000;
  const channels = new Map<number, unknown>();
  const users = new Map<number, FakeKickUser>();
  const tokens = new Set<string>();
  const userTokens = new Set<string>();
  const chatMessages: FakeKickChatMessage[] = [];
  const subscriptions = new Map<string, FakeKickSubscription>();
  let subscriptionSeq = 0;
  const newSubscription = (broadcasterUserId: number, event: string): FakeKickSubscription => {
    subscriptionSeq += 1;
    const sub: FakeKickSubscription = {
      id: `01FAKESUB${String(subscriptionSeq).padStart(8, '0')}`,
      broadcasterUserId,
      event,
      version: 1,
      createdAt: new Date(Date.UTC(2026, 0, 1) + subscriptionSeq * 1000).toISOString(),
      delivering: true,
    };
    subscriptions.set(sub.id, sub);
    return sub;
  };
  const apiFaults: QueuedFault[] = [];
  const tokenFaults: QueuedFault[] = [];
  const subscriptionFaults: QueuedFault[] = [];
  const requests: FakeKickRequest[] = [];
  const sockets = new Set<Socket>();
  let tokensIssued = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.kick');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const endpoint: FakeKickRequest['endpoint'] =
      url.pathname === '/oauth/token'
        ? 'token'
        : url.pathname === '/public/v1/channels'
          ? 'channels'
          : url.pathname === '/public/v1/users'
            ? 'users'
            : url.pathname === '/public/v1/chat'
              ? 'chat'
              : url.pathname === '/public/v1/events/subscriptions'
                ? 'subscriptions'
                : 'other';
    const ids = url.searchParams.getAll(endpoint === 'users' ? 'id' : 'broadcaster_user_id').map(Number);
    const record: FakeKickRequest = { endpoint, method, path: url.pathname, ids, status: 0 };
    requests.push(record);
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };

    const queued =
      endpoint === 'token'
        ? tokenFaults.shift()
        : endpoint === 'other'
          ? undefined
          : ((endpoint === 'subscriptions' ? subscriptionFaults.shift() : undefined) ?? apiFaults.shift());
    if (queued) {
      if (queued.fault === 'timeout') {
        // Never answered; close() destroys the socket.
        record.status = 'timeout';
        return;
      }
      if (queued.fault === 'reset') {
        record.status = 'reset';
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = queued.retryAfterS === undefined ? {} : { 'retry-after': String(queued.retryAfterS) };
      const payload = endpoint === 'token' ? { error: 'server_error', error_description: 'injected fault' } : { data: null, message: 'injected fault' };
      return reply(queued.fault, payload, headers);
    }

    if (endpoint === 'token') {
      if (method !== 'POST') return reply(405, { error: 'invalid_request', error_description: 'method not allowed' });
      if (!(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
        return reply(400, { error: 'invalid_request', error_description: 'expected a form-encoded body' });
      }
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials') {
        return reply(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
      }
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        return reply(401, { error: 'invalid_client', error_description: 'client authentication failed' });
      }
      const accessToken = randomBytes(16).toString('hex');
      tokens.add(accessToken);
      tokensIssued += 1;
      return reply(200, { access_token: accessToken, token_type: 'Bearer', expires_in: expiresInS });
    }
    if (endpoint === 'other') return reply(404, { data: null, message: 'Not Found' });
    if (endpoint === 'chat') {
      // POST /public/v1/chat: { type: 'user' | 'bot', broadcaster_user_id (required for user), content ≤ 500,
      // reply_to_message_id? } with a user token holding chat:write → { data: { is_sent, message_id } }.
      if (method !== 'POST') return reply(405, { data: null, message: 'Method Not Allowed' });
      const auth = req.headers.authorization ?? '';
      const bearer = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
      if (!userTokens.has(bearer)) return reply(401, { data: null, message: 'Unauthorized' });
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return reply(400, { data: null, message: 'invalid JSON' });
      }
      const type = payload['type'];
      const content = payload['content'];
      const broadcaster = payload['broadcaster_user_id'];
      if (type !== 'user' && type !== 'bot') return reply(400, { data: null, message: 'type must be user or bot' });
      if (typeof content !== 'string' || content.length === 0 || [...content].length > 500) {
        return reply(400, { data: null, message: 'content must be 1-500 characters' });
      }
      if (type === 'user' && !Number.isInteger(broadcaster)) return reply(400, { data: null, message: 'broadcaster_user_id is required' });
      const messageId = randomBytes(16).toString('hex');
      chatMessages.push({
        token: bearer,
        type,
        broadcasterUserId: Number.isInteger(broadcaster) ? (broadcaster as number) : undefined,
        content,
        replyToMessageId: typeof payload['reply_to_message_id'] === 'string' ? payload['reply_to_message_id'] : undefined,
        messageId,
      });
      return reply(200, { data: { is_sent: true, message_id: messageId }, message: 'OK' });
    }
    if (endpoint === 'subscriptions') {
      const auth = req.headers.authorization ?? '';
      const bearer = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
      if (!tokens.has(bearer)) return reply(401, { data: null, message: 'Unauthorized' });
      if (method === 'GET') {
        const raw = url.searchParams.get('broadcaster_user_id');
        if (raw !== null && !/^\d+$/.test(raw)) return reply(400, { data: null, message: 'invalid broadcaster_user_id' });
        const data = [...subscriptions.values()]
          .filter((sub) => raw === null || sub.broadcasterUserId === Number(raw))
          .map((sub) => ({
            id: sub.id,
            app_id: clientId,
            broadcaster_user_id: sub.broadcasterUserId,
            event: sub.event,
            version: sub.version,
            method: 'webhook',
            created_at: sub.createdAt,
            updated_at: sub.createdAt,
          }));
        return reply(200, { data, message: 'OK' });
      }
      if (method === 'DELETE') {
        const idList = url.searchParams.getAll('id');
        if (idList.length === 0) return reply(400, { data: null, message: 'id is required' });
        for (const id of idList) subscriptions.delete(id);
        record.status = 204;
        res.writeHead(204);
        res.end();
        return;
      }
      if (method !== 'POST') return reply(405, { data: null, message: 'Method Not Allowed' });
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return reply(400, { data: null, message: 'invalid JSON' });
      }
      const broadcaster = payload['broadcaster_user_id'];
      const events = payload['events'];
      if (!Number.isSafeInteger(broadcaster) || (broadcaster as number) <= 0) return reply(400, { data: null, message: 'broadcaster_user_id is required' });
      if (payload['method'] !== 'webhook') return reply(400, { data: null, message: 'method must be webhook' });
      if (!Array.isArray(events) || events.length === 0) return reply(400, { data: null, message: 'events is required' });
      record.ids = [broadcaster as number];
      const data = events.map((e: unknown) => {
        const name = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)['name'] : undefined;
        const version = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)['version'] : undefined;
        if (typeof name !== 'string' || !KNOWN_EVENTS.has(name) || version !== 1) {
          return { name: typeof name === 'string' ? name : '', version: typeof version === 'number' ? version : 0, subscription_id: null, error: 'invalid event' };
        }
        return { name, version, subscription_id: newSubscription(broadcaster as number, name).id, error: null };
      });
      return reply(200, { data, message: 'OK' });
    }
    if (method !== 'GET') return reply(405, { data: null, message: 'Method Not Allowed' });

    const auth = req.headers.authorization ?? '';
    const bearer = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    if (!tokens.has(bearer)) return reply(401, { data: null, message: 'Unauthorized' });

    const param = endpoint === 'users' ? 'id' : 'broadcaster_user_id';
    const raw = url.searchParams.getAll(param);
    if (endpoint === 'channels' && raw.length > 0 && url.searchParams.has('slug')) {
      return reply(400, { data: null, message: 'broadcaster_user_id and slug cannot be used together' });
    }
    if (raw.length > MAX_IDS) return reply(400, { data: null, message: `at most ${MAX_IDS} ${param} values are allowed` });
    if (raw.some((v) => !/^\d+$/.test(v))) return reply(400, { data: null, message: `invalid ${param}` });
    const slug = url.searchParams.get('slug');
    if (endpoint === 'channels' && slug !== null) {
      const found = [...channels.values()].filter(
        (item) => typeof item === 'object' && item !== null && String((item as Record<string, unknown>)['slug']).toLowerCase() === slug.toLowerCase(),
      );
      return reply(200, { data: found, message: 'OK' });
    }

    const data: unknown[] = [];
    for (const id of ids) {
      const item = endpoint === 'users' ? (users.has(id) ? userWire(users.get(id) as FakeKickUser) : undefined) : channels.get(id);
      if (item !== undefined) data.push(item);
    }
    return reply(200, { data, message: 'OK' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;

  return {
    apiBase: base,
    oauthBase: base,
    clientId,
    clientSecret,
    setChannel: (channel) => channels.set(channel.broadcasterUserId, channelWire(channel)),
    setRawChannel: (id, raw) => channels.set(id, raw),
    removeChannel: (id) => channels.delete(id),
    setUser: (user) => users.set(user.userId, user),
    removeUser: (id) => users.delete(id),
    failNext(n, fault, faultOptions = {}) {
      const queue = faultOptions.endpoint === 'token' ? tokenFaults : faultOptions.endpoint === 'subscriptions' ? subscriptionFaults : apiFaults;
      for (let i = 0; i < n; i++) queue.push({ fault, retryAfterS: faultOptions.retryAfterS });
    },
    clearFaults() {
      apiFaults.length = 0;
      tokenFaults.length = 0;
      subscriptionFaults.length = 0;
    },
    revokeTokens: () => tokens.clear(),
    addUserToken: (token) => userTokens.add(token),
    subscriptions: (broadcasterUserId) =>
      [...subscriptions.values()].filter((sub) => broadcasterUserId === undefined || sub.broadcasterUserId === broadcasterUserId).map((sub) => ({ ...sub })),
    addSubscription: (broadcasterUserId, event) => newSubscription(broadcasterUserId, event).id,
    dropSubscription: (id) => subscriptions.delete(id),
    stopDelivering(broadcasterUserId) {
      for (const sub of subscriptions.values()) if (sub.broadcasterUserId === broadcasterUserId) sub.delivering = false;
    },
    delivers: (broadcasterUserId, event) =>
      [...subscriptions.values()].some((sub) => sub.broadcasterUserId === broadcasterUserId && sub.event === event && sub.delivering),
    chatMessages,
    requests,
    get tokensIssued() {
      return tokensIssued;
    },
    async close() {
      // Held ("timeout") requests and idle keep-alive connections would keep close() waiting.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function channelWire(c: FakeKickChannel): unknown {
  const isLive = c.isLive ?? false;
  const category = c.category ?? null;
  return {
    broadcaster_user_id: c.broadcasterUserId,
    slug: c.slug,
    channel_description: '',
    banner_picture: '',
    stream_title: c.title ?? '',
    // A channel without a category gets an object of empty values rather than null.
    category: category ? { id: category.id, name: category.name, thumbnail: category.thumbnail ?? '' } : { id: 0, name: '', thumbnail: '' },
    active_subscribers_count: c.activeSubscribersCount ?? 0,
    stream: {
      is_live: isLive,
      is_mature: c.isMature ?? false,
      key: '',
      url: '',
      language: c.language ?? 'en',
      thumbnail: '',
      viewer_count: isLive ? (c.viewerCount ?? 0) : 0,
      // An unset time is the zero time, the way Go serialises an empty timestamp.
      start_time: isLive && c.startedAt ? c.startedAt : '0001-01-01T00:00:00Z',
    },
  };
}

function userWire(u: FakeKickUser): unknown {
  return { user_id: u.userId, name: u.name, email: u.email ?? '', profile_picture: u.profilePicture ?? '' };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
